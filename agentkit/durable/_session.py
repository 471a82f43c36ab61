"""A durable run's view of its thread: DBOS's record first, the session second.

The run loads the thread in a step (a replay sees the history the run started from, not what
was appended since) and buffers what the loop journals; the buffer goes to the session in one
step before each model request and at the end of the run. A crash between a checkpoint and an
append therefore cannot make the two disagree: a replay skips the appends that were recorded
and makes the others. Buffering (rather than one step per item) keeps the steps in a fixed
order: the loop journals tool results in completion order, which a replay does not reproduce.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS

from ..sessions import PostgresSession

current: ContextVar[StepSession | None] = ContextVar("agentkit_durable_session", default=None)
"""The thread of the durable run executing in this context, if it has one."""


@dataclass
class StepSession:
    """Implements the ``Session`` protocol over a ``PostgresSession``, with DBOS steps."""

    inner: PostgresSession
    """The thread as every other run sees it."""
    pending: list[dict[str, Any]] = field(default_factory=list)
    """Items journaled since the last flush."""
    session_id: str = field(init=False)
    """The thread's id."""

    def __post_init__(self) -> None:
        self.session_id = self.inner.session_id

    async def load(self) -> list[dict[str, Any]]:
        """Load the thread as the step ``session:load``."""
        return await DBOS.run_step_async({"name": "session:load"}, self.inner.load)

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        """Buffer ``items`` until the next flush."""
        self.pending.extend(items)

    async def flush(self) -> None:
        """Append the buffered items as the step ``session:append`` (always one step, even
        when empty, so that a replay numbers its steps the same)."""
        items, self.pending = self.pending, []

        async def append() -> int:
            if items:
                await self.inner.append(items)
            return len(items)

        await DBOS.run_step_async({"name": "session:append"}, append)

    async def clear(self) -> None:
        """Delete every item of this thread."""
        await self.inner.clear()

    async def list_sessions(self) -> list[str]:
        """Return the ids of all non-empty threads in the store."""
        return await self.inner.list_sessions()

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold the thread for the run (Postgres drops the lock if the worker dies)."""
        return self.inner.lock()

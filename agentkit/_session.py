"""The ``Session`` protocol: the persisted thread the agent loop journals to.

It lives in the core so that the loop depends on the protocol only; the stores that implement it
are in ``agentkit.sessions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Session(Protocol):
    """One persisted thread of conversation.

    Items are the API's own JSON objects (Chat Completions messages or Responses items), stored
    as they are. Implement these five members to plug in another store.
    """

    session_id: str
    """The thread's id, e.g. ``"user-42"``."""

    async def load(self) -> list[dict[str, Any]]:
        """Return every stored item of this thread, oldest first."""
        ...

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        """Store ``items`` after the existing ones, in order, in one transaction."""
        ...

    async def clear(self) -> None:
        """Delete every item of this thread."""
        ...

    async def list_sessions(self) -> list[str]:
        """Return the ids of all non-empty threads in the same store, sorted."""
        ...

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold this thread exclusively for one run.

        Raises:
            SessionBusyError: Another run (in this or another process) holds the thread.
        """
        ...

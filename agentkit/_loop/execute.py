"""Call one tool function under its timeout, and let go of it at the deadline.

``async def`` tools run as their own task and ``def`` tools on the agent's bounded thread pool.
Either way the caller waits with ``asyncio.wait``, so a deadline ends the wait on time even when
the tool swallows ``CancelledError`` and keeps working, or is a thread that cannot be stopped: the
call is *abandoned* (cancelled if it can be), its late result is logged and discarded, never
used or stored. Abandoned ``def`` calls still hold a pool thread; at most ``tool_threads`` may,
after which a ``def`` call is answered "no free tool thread" instead of queueing forever.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("agentkit")

bounded: contextvars.ContextVar[bool] = contextvars.ContextVar("agentkit_calls_bounded", default=False)
"""Set by the dispatcher while the run has a deadline: every call must then be let go of on time."""

_CAN_TELL_CANCELLATION = sys.version_info >= (3, 11)


class TimedOut(Exception):
    """The call did not finish within its timeout; it was abandoned."""


class NoFreeThread(Exception):
    """Every tool thread is held by an abandoned call."""


class SelfCancelled(Exception):
    """The tool raised ``CancelledError`` itself while the run was not being cancelled."""


@dataclass
class Executor:
    """Runs tool functions for one agent; shared by all its runs."""

    pool: Callable[[], ThreadPoolExecutor]
    """Returns the agent's thread pool for ``def`` tools (created on first use)."""
    threads: int
    """The pool's size: how many ``def`` calls may be abandoned at once."""
    _abandoned_threads: int = field(default=0, init=False)
    _abandoned_tasks: set[asyncio.Future[Any]] = field(default_factory=set, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    async def call(
        self,
        function: Callable[..., Any],
        is_async: bool,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        timeout: float | None,
        label: str,
    ) -> Any:
        """Call ``function`` and return its value.

        Raises:
            TimedOut: ``timeout`` seconds passed first.
            NoFreeThread: A ``def`` tool found every pool thread held by abandoned calls.
            SelfCancelled: The tool raised ``CancelledError`` on its own.
            Exception: Whatever the tool raised.
        """
        loop = asyncio.get_running_loop()
        start = loop.time()
        if is_async and timeout is None and _CAN_TELL_CANCELLATION and not bounded.get():
            # Nothing to let go of on time: await in place (no task, fewer loop iterations).
            value = await _in_place(function(*args, **kwargs))
        elif is_async:
            value = await self._wait(asyncio.ensure_future(function(*args, **kwargs)), timeout, label, False)
        else:
            value = await self._wait(self._submit(function, args, kwargs), timeout, label, True)
        if inspect.isawaitable(value):
            # A ``def`` tool that returns a coroutine: await it within what is left of the timeout.
            left = None if timeout is None else max(timeout - (loop.time() - start), 0.0)
            value = await self._wait(asyncio.ensure_future(value), left, label, False)
        return value

    def _submit(
        self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> asyncio.Future[Any]:
        with self._lock:
            if self._abandoned_threads >= self.threads:
                raise NoFreeThread
        ctx = contextvars.copy_context()
        return asyncio.get_running_loop().run_in_executor(
            self.pool(), lambda: ctx.run(function, *args, **kwargs)
        )

    async def _wait(
        self, future: asyncio.Future[Any], timeout: float | None, label: str, thread: bool
    ) -> Any:
        try:
            done, _ = await asyncio.wait({future}, timeout=timeout)
        except asyncio.CancelledError:
            # The run itself is being cancelled (or hit its deadline): let go of the call.
            self._abandon(future, label, thread)
            raise
        if not done:
            self._abandon(future, label, thread)
            raise TimedOut
        if future.cancelled():
            raise SelfCancelled
        return future.result()

    def _abandon(self, future: asyncio.Future[Any], label: str, thread: bool) -> None:
        if thread:
            # A thread cannot be stopped (cancelling the wrapper would only hide it): count it
            # until it finishes on its own.
            with self._lock:
                self._abandoned_threads += 1
            logger.warning("%s: abandoned a running tool thread (%d held)", label, self._abandoned_threads)
        else:
            future.cancel()
            if future.done():
                return
            self._abandoned_tasks.add(future)
        future.add_done_callback(lambda f: self._late(f, label, thread))

    def _late(self, future: asyncio.Future[Any], label: str, thread: bool) -> None:
        if thread:
            with self._lock:
                self._abandoned_threads -= 1
        else:
            self._abandoned_tasks.discard(future)
        outcome = (
            "was cancelled"
            if future.cancelled()
            else (f"raised {type(future.exception()).__name__}" if future.exception() else "returned")
        )
        logger.info("%s: an abandoned call %s late; its result was discarded", label, outcome)


async def _in_place(awaitable: Any) -> Any:
    """Await a tool's coroutine in the caller's task, telling a real cancellation of the run
    (propagated) from the tool raising ``CancelledError`` itself (``SelfCancelled``)."""
    try:
        return await awaitable
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # type: ignore[attr-defined]
            raise
        raise SelfCancelled from None

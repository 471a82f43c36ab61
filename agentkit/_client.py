"""Where an agent's ``AsyncOpenAI`` client comes from, and who closes it.

An agent given ``client=`` uses it and never closes it: it is the caller's. Otherwise the agent
builds a default client from the environment, one per event loop (a connection pool belongs to
the loop it was made on), shared by every run of that agent (and its clones) on that loop. A
default client is closed by agentkit:

- when its event loop shuts down through ``asyncio.run`` (or ``loop.shutdown_asyncgens()``):
  a small async generator registered with the loop closes it;
- by ``await agent.aclose()`` or leaving ``async with agent:``;
- for ``run_sync``, whose runs share one background event loop, at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import contextvars
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from openai import AsyncOpenAI

T = TypeVar("T")

_override: ContextVar[AsyncOpenAI | None] = ContextVar("agentkit_client_override", default=None)


@contextmanager
def override_client(client: AsyncOpenAI) -> Iterator[AsyncOpenAI]:
    """Make every agent without an explicit ``client=`` use ``client`` inside this block.

    The override is a context variable: it holds for this thread or task and the tasks it
    starts, and never leaks into concurrent code elsewhere.
    """
    token = _override.set(client)
    try:
        yield client
    finally:
        _override.reset(token)


class DefaultClients:
    """The default clients of one agent (and its clones): one per event loop."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Entry] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self) -> AsyncOpenAI:
        """Return the running loop's default client, building it on first use.

        Raises:
            ConfigurationError: ``OPENAI_API_KEY`` is not set.
            RuntimeError: No event loop is running.
        """
        loop = asyncio.get_running_loop()
        entry = self._by_loop.get(loop)
        if entry is not None:
            return entry.client
        if not os.environ.get("OPENAI_API_KEY"):
            raise ConfigurationError(
                "No OpenAI client: set OPENAI_API_KEY (and OPENAI_BASE_URL for another "
                "OpenAI-compatible server), or pass Agent(client=AsyncOpenAI(...))."
            )
        with self._lock:
            entry = self._by_loop.get(loop)
            if entry is None:
                entry = self._by_loop[loop] = _Entry(_default_client(), self, loop)
        return entry.client

    async def aclose(self) -> None:
        """Close the running loop's default client, if one was built; idempotent."""
        entry = self._by_loop.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry.close()

    def _forget(self, loop: asyncio.AbstractEventLoop, entry: _Entry) -> None:
        if self._by_loop.get(loop) is entry:
            del self._by_loop[loop]


class _Entry:
    """One default client and the async generator that closes it when its loop shuts down."""

    def __init__(self, client: AsyncOpenAI, owner: DefaultClients, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        # The loop tracks async generators weakly and closes them in shutdown_asyncgens(); the
        # entry keeps this one alive. Its first __anext__() registers it with the running loop.
        self._closer = self._close_at_shutdown(owner, loop)
        self._started = asyncio.ensure_future(self._closer.__anext__())

    async def _close_at_shutdown(
        self, owner: DefaultClients, loop: asyncio.AbstractEventLoop
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            owner._forget(loop, self)
            await self.client.close()

    async def close(self) -> None:
        """Close the client now (through the generator, so it is closed exactly once)."""
        await self._started
        await self._closer.aclose()


def resolve_client(explicit: AsyncOpenAI | None, defaults: DefaultClients) -> AsyncOpenAI:
    """Return the client a run should use: explicit, then overridden, then the default."""
    if explicit is not None:
        return explicit
    overridden = _override.get()
    if overridden is not None:
        return overridden
    return defaults.get()


def _default_client() -> AsyncOpenAI:
    """Build the client used when an agent has none: aiohttp-backed when aiohttp is installed.

    Under many concurrent runs the SDK's default httpx pool is the bottleneck (benchmarks/
    bench_loop.py measures it); the SDK's own aiohttp transport (``openai[aiohttp]``, installed by
    ``agentkit-openai[aiohttp]``) keeps the same SDK behaviour with far higher throughput.
    """
    from openai import AsyncOpenAI

    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return AsyncOpenAI()
    from openai import DefaultAioHttpClient

    return AsyncOpenAI(http_client=DefaultAioHttpClient())


class _SyncLoop:
    """One background event loop that runs every ``run_sync`` call of the process.

    Runs from any number of threads share its connection pools; it is shut down (closing every
    default client on it) at interpreter exit.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="agentkit-run-sync", daemon=True
                )
                self._thread.start()
                self._loop = loop
                atexit.register(self.shutdown)
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the background loop in the caller's context and wait for it.

        A ``KeyboardInterrupt`` (or any ``BaseException``) in the waiting thread cancels the run.
        """
        loop = self._ensure()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            # Called inside the caller's context, so the task copies its context variables.
            task = loop.create_task(coro)
            task.add_done_callback(lambda t: _settle(future, t))
            future.add_done_callback(lambda f: f.cancelled() and loop.call_soon_threadsafe(task.cancel))

        loop.call_soon_threadsafe(start, context=contextvars.copy_context())
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def shutdown(self) -> None:
        """Close the async generators (and so the default clients) on the loop, then stop it."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        # Best effort at exit: a loop stuck in a tool must not hang the interpreter.
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def _settle(future: concurrent.futures.Future[T], task: asyncio.Task[T]) -> None:
    if future.cancelled():
        return
    if task.cancelled():
        future.cancel()
    elif (exc := task.exception()) is not None:
        future.set_exception(exc)
    else:
        future.set_result(task.result())


sync_loop = _SyncLoop()
"""The process's ``run_sync`` loop."""

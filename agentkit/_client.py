"""Where an agent's ``AsyncOpenAI`` client comes from."""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from openai import AsyncOpenAI

_override: ContextVar[AsyncOpenAI | None] = ContextVar("agentkit_client_override", default=None)

# One default client per event loop: an httpx connection pool belongs to the loop it was made on,
# and run_sync() starts a new loop on every call.
_defaults: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenAI] = weakref.WeakKeyDictionary()


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


def resolve_client(explicit: AsyncOpenAI | None) -> AsyncOpenAI:
    """Return the client a run should use: explicit, then overridden, then built from the env."""
    if explicit is not None:
        return explicit
    overridden = _override.get()
    if overridden is not None:
        return overridden
    loop = asyncio.get_running_loop()
    client = _defaults.get(loop)
    if client is None:
        if not os.environ.get("OPENAI_API_KEY"):
            raise ConfigurationError(
                "No OpenAI client: set OPENAI_API_KEY (and OPENAI_BASE_URL for another "
                "OpenAI-compatible server), or pass Agent(client=AsyncOpenAI(...))."
            )
        client = _default_client()
        _defaults[loop] = client
    return client


def _default_client() -> AsyncOpenAI:
    """Build the client used when an agent has none: aiohttp-backed when aiohttp is installed.

    Under many concurrent runs the SDK's default httpx2 pool is the bottleneck (benchmarks/
    bench_loop.py measures it); the SDK's own aiohttp transport (``openai[aiohttp]``, installed by
    ``agentkit[aiohttp]``) keeps the same SDK behaviour with far higher throughput.
    """
    from openai import AsyncOpenAI

    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return AsyncOpenAI()
    from openai import DefaultAioHttpClient

    return AsyncOpenAI(http_client=DefaultAioHttpClient())

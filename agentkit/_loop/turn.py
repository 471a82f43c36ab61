"""One model request, bounded by the run's deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .._wire import ModelAPI, ModelTurn, Request

if TYPE_CHECKING:
    from openai import AsyncOpenAI

T = TypeVar("T")


@dataclass(frozen=True)
class Deadline:
    """The run's deadline on the event loop's clock (``None``: no deadline)."""

    at: float | None
    """``loop.time()`` at which the run must end."""
    seconds: float | None
    """The configured ``run_timeout``, for messages."""

    @classmethod
    def start(cls, seconds: float | None) -> Deadline:
        """Start counting ``seconds`` from now."""
        if seconds is None:
            return cls(None, None)
        return cls(asyncio.get_running_loop().time() + seconds, seconds)

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` without a deadline."""
        if self.at is None:
            return None
        return max(self.at - asyncio.get_running_loop().time(), 0.0)

    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return self.at is not None and asyncio.get_running_loop().time() >= self.at

    async def bound(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``, raising ``asyncio.TimeoutError`` at the deadline."""
        remaining = self.remaining()
        if remaining is None:
            return await awaitable
        return await asyncio.wait_for(awaitable, remaining)

    async def bound_iter(self, iterator: AsyncIterator[T]) -> AsyncIterator[T]:
        """Iterate ``iterator``, raising ``asyncio.TimeoutError`` at the deadline; always closes it."""
        try:
            while True:
                try:
                    item = await self.bound(iterator.__anext__())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()


async def model_turn(
    api: ModelAPI,
    client: AsyncOpenAI,
    request: Request,
    history: list[dict[str, Any]],
    deadline: Deadline,
    *,
    stream: bool,
) -> AsyncGenerator[str | ModelTurn, None]:
    """Make one request; yield text fragments (when streaming), then the whole ``ModelTurn``."""
    if not stream:
        yield await deadline.bound(api.complete(client, request, history))
        return
    parts = api.stream(client, request, history)
    if deadline.at is not None:
        parts = deadline.bound_iter(parts)
    try:
        async for part in parts:
            yield part
    finally:
        aclose = getattr(parts, "aclose", None)
        if aclose is not None:
            await aclose()

"""One model request, bounded by the run's deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .._hooks import ModelRequest, ModelResponse, Step, StepRunner, call_hooks
from .._wire import ModelAPI, ModelTurn, Request

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    # Types only: ``state`` imports the history window, which imports this module.
    from .spec import RunSpec
    from .state import RunState

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
    step: tuple[StepRunner, Step] | None = None,
) -> AsyncGenerator[str | ModelTurn, None]:
    """Make one request; yield text fragments (when streaming), then the whole ``ModelTurn``.

    Through a step runner the request is one step: a streamed reply is collected inside it and
    its text is yielded as one fragment once the step returns (a replayed step has no stream).
    """
    if step is not None:
        runner, info = step
        turn = await deadline.bound(runner(info, lambda: _whole(api, client, request, history, stream)))
        if stream and turn.text:
            yield turn.text
        yield turn
        return
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


async def _whole(
    api: ModelAPI, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]], stream: bool
) -> ModelTurn:
    if not stream:
        return await api.complete(client, request, history)
    turn: ModelTurn | None = None
    async for part in api.stream(client, request, history):
        if isinstance(part, ModelTurn):
            turn = part
    assert turn is not None, "a stream ends with its ModelTurn"
    return turn


def step_for(spec: RunSpec, state: RunState) -> tuple[StepRunner, Step] | None:
    """The step runner and step of this turn's model request, if the agent has a runner."""
    if spec.step_runner is None:
        return None
    return spec.step_runner, Step("model_request", spec.request.model, state.run_id, state.turn)


async def before_request(
    spec: RunSpec, state: RunState, request: Request, sent: list[dict[str, Any]]
) -> ModelRequest | None:
    """Call the ``before_model_request`` hooks; return what ``after_request`` needs (or ``None``)."""
    hooks = spec.hooks
    if not (hooks.before_model_request or hooks.after_model_request):
        return None
    names = [str((p.get("function") or p).get("name")) for p in request.tool_params]
    seen = ModelRequest(request.model, state.turn, sent, names)
    await call_hooks(hooks.before_model_request, state.context, seen)
    return seen


async def after_request(spec: RunSpec, state: RunState, seen: ModelRequest | None, reply: ModelTurn) -> None:
    """Call the ``after_model_request`` hooks with the reply."""
    if seen is not None and spec.hooks.after_model_request:
        response = ModelResponse(reply.text, reply.tool_calls, reply.usage, reply.finish_reason)
        await call_hooks(spec.hooks.after_model_request, state.context, seen, response)

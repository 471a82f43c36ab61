"""Apply the agent's guardrails: the input checks race the first model request, the output
checks run on the final answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, TypeVar

from .._guardrail import Guardrail, first_tripped, input_text
from ..exceptions import GuardrailTripped
from .state import RunState

if TYPE_CHECKING:
    from openai import AsyncOpenAI

T = TypeVar("T")


def start_input_checks(
    state: RunState, client: AsyncOpenAI, user_input: str | list[dict[str, Any]] | None
) -> asyncio.Future[tuple[Guardrail, str] | None] | None:
    """Start the input checks on the run's new input as a task (``None`` when there are none)."""
    if not state.spec.input_guardrails:
        return None
    text = input_text(user_input)
    if not text:
        return None
    return asyncio.ensure_future(first_tripped(state.spec.input_guardrails, text, state.context, client))


async def guard_first(
    parts: AsyncGenerator[T, None], verdict: asyncio.Future[tuple[Guardrail, str] | None], state: RunState
) -> AsyncGenerator[T, None]:
    """Yield ``parts`` once the input checks passed; if one trips first, cancel the request.

    Raises:
        GuardrailTripped: An input check tripped (the request is cancelled, nothing is used).
    """
    first: asyncio.Future[T] = asyncio.ensure_future(parts.__anext__())
    try:
        racing: list[asyncio.Future[Any]] = [first, verdict]
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        _raise_if_tripped(await verdict if verdict.done() else None, "input", state)
        item = await first
        _raise_if_tripped(await verdict, "input", state)
    finally:
        if not first.done():
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
    yield item
    async for part in parts:
        yield part


async def check_output(state: RunState, client: AsyncOpenAI, text: str) -> None:
    """Run the output checks on the final answer.

    Raises:
        GuardrailTripped: An output check tripped.
    """
    if state.spec.output_guardrails:
        _raise_if_tripped(
            await first_tripped(state.spec.output_guardrails, text, state.context, client), "output", state
        )


def _raise_if_tripped(tripped: tuple[Guardrail, str] | None, stage: str, state: RunState) -> None:
    if tripped is None:
        return
    guardrail, reason = tripped
    raise GuardrailTripped(
        f"The {stage} guardrail {guardrail.name!r} stopped the run: {reason}",
        guardrail=guardrail.name,
        stage=stage,
        reason=reason,
        **state.transcript(),
    )

"""Guardrails: checks on the user's input and the final output that can stop a run.

``Agent(input_guardrails=[...])`` checks run on the run's new user input *concurrently* with the
first model request: a passing check adds no latency, a tripped one cancels the request and the
run raises ``GuardrailTripped`` (nothing of the reply is used or stored). In a streamed run the
first text fragment waits for the input checks. ``Agent(output_guardrails=[...])`` checks run on
the final answer before it is returned (a streamed run has already shown its text by then).
A check that raises ends the run with that exception, like a hook.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._context import RunContext

if TYPE_CHECKING:
    from openai import AsyncOpenAI

GuardrailCheck = Callable[[str, RunContext[Any], "AsyncOpenAI"], "Awaitable[str | None] | str | None"]
"""``(text, ctx, client) -> None`` to pass, or the reason to stop the run (sync or async)."""


@dataclass(frozen=True)
class Guardrail:
    """A named check on the input or the output text."""

    name: str
    """Shown in ``GuardrailTripped.guardrail``."""
    check: GuardrailCheck
    """Returns ``None`` to pass, or why the run must stop."""


def moderation(
    model: str = "omni-moderation-latest", *, categories: Collection[str] | None = None
) -> Guardrail:
    """OpenAI's moderation endpoint as a guardrail (``client.moderations.create``).

    Args:
        model: The moderation model.
        categories: Stop only for these categories (e.g. ``{"violence", "self-harm/intent"}``);
            ``None`` stops whenever the endpoint sets ``flagged``.

    Returns:
        A guardrail whose reason lists the flagged categories, e.g. ``"flagged: violence"``.
    """

    async def check(text: str, ctx: RunContext[Any], client: AsyncOpenAI) -> str | None:
        response = await client.moderations.create(model=model, input=text)
        hits: set[str] = set()
        for result in response.results:
            flags = result.categories.model_dump(by_alias=True)
            named = {name for name, on in flags.items() if on}
            if categories is None:
                hits |= named if result.flagged else set()
            else:
                hits |= named & set(categories)
        return "flagged: " + ", ".join(sorted(hits)) if hits else None

    return Guardrail(f"moderation ({model})", check)


async def first_tripped(
    guardrails: Sequence[Guardrail], text: str, ctx: RunContext[Any], client: AsyncOpenAI
) -> tuple[Guardrail, str] | None:
    """Run every check concurrently; return the first (in list order) that tripped, with its reason."""

    async def one(guardrail: Guardrail) -> str | None:
        value = guardrail.check(text, ctx, client)
        return await value if inspect.isawaitable(value) else value

    reasons = await asyncio.gather(*(one(g) for g in guardrails))
    return next(((g, r) for g, r in zip(guardrails, reasons, strict=True) if r is not None), None)


def input_text(user_input: str | list[dict[str, Any]] | None) -> str:
    """The text of a run's new input (string contents and text parts), for input guardrails."""
    if user_input is None or isinstance(user_input, str):
        return user_input or ""
    texts: list[str] = []
    for item in user_input:
        content = item.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p)
    return "\n".join(texts)

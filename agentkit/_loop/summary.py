"""Summarise dropped turns through the model: one extra request, no tools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from .._result import Usage
from .._wire import ModelAPI, Request
from ..history import Summarize
from .cost import Pricer
from .count import as_message
from .turn import Deadline

if TYPE_CHECKING:
    from openai import AsyncOpenAI

SUMMARY_PREFIX: Final = (
    "Summary of the earlier conversation (its turns were left out to fit the context window):\n"
)
"""Starts the user message that stands for the summarised turns in what is sent."""


async def summarise(
    policy: Summarize,
    api: ModelAPI,
    client: AsyncOpenAI,
    model: str,
    previous: str | None,
    items: Sequence[dict[str, Any]],
    *,
    deadline: Deadline,
    pricer: Pricer,
    usage: Usage,
) -> str:
    """Ask the model for a summary of ``previous`` (an earlier summary) followed by ``items``.

    The request's usage (cost included) is added to ``usage``.
    """
    request = Request(
        model=policy.model or model,
        instructions=policy.prompt,
        tool_params=[],
        settings={},
        tool_choice=None,
        parallel_tool_calls=None,
        output_schema=None,
    )
    transcript = render(previous, items)
    reply = await deadline.bound(api.complete(client, request, [api.user_item(transcript)]))
    pricer.price(request.model, reply.usage)
    usage.add(reply.usage)
    return (reply.text or "").strip()


def render(previous: str | None, items: Sequence[dict[str, Any]]) -> str:
    """The turns to summarise as plain text, one line per message, call or result."""
    lines = [f"Summary of what came before: {previous}"] if previous else []
    for item in items:
        message, _ = as_message(item)
        role = message.get("role")
        if role == "tool":
            lines.append(f"Tool result: {message.get('content')}")
            continue
        if message.get("content") and role not in ("system", "developer"):
            lines.append(f"{str(role).capitalize()}: {message['content']}")
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            lines.append(f"Assistant called {function.get('name')}({function.get('arguments')})")
    return "\n".join(lines)

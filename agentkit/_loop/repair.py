"""Make a stored thread safe to send: every tool call followed by exactly one result, in call order.

A process can die between persisting an assistant message with tool calls and persisting all of
their results, and results are persisted in completion order. ``repair_history`` reads the thread
in order, puts each turn's results back in call order right after its calls, drops results that
answer no open call of their turn, and marks the calls that have no result so the loop can close
them. Results are matched within their own turn, never across the thread, because some
OpenAI-compatible servers reuse call ids (``call_0``) on every turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._result import ToolCall
from .._wire import ModelAPI

Slot = dict[str, Any] | ToolCall
"""A history item, or a ``ToolCall`` standing where its missing result belongs."""


@dataclass
class Repaired:
    """A stored thread, read for sending."""

    slots: list[Slot]
    """The history, with a ``ToolCall`` where a result is missing."""
    dangling: list[tuple[int, ToolCall]]
    """The calls without a result, with their position among all the thread's tool calls."""
    calls: int
    """How many tool calls the thread holds."""
    orphans: list[int]
    """Positions (in the input) of tool results that answer no open call; they were dropped."""


def repair_history(api: ModelAPI, items: list[dict[str, Any]]) -> Repaired:
    """Return the history with results ordered and gaps marked."""
    out: list[Slot] = []
    pending: list[tuple[int, ToolCall]] = []
    answers: dict[int, dict[str, Any]] = {}
    dangling: list[tuple[int, ToolCall]] = []
    seen = 0
    last_was_result = False
    orphans: list[int] = []

    def flush() -> None:
        for position, (ordinal, call) in enumerate(pending):
            result = answers.get(position)
            if result is None:
                out.append(call)
                dangling.append((ordinal, call))
            else:
                out.append(result)
        pending.clear()
        answers.clear()

    for index, item in enumerate(items):
        call_id = api.result_call_id(item)
        if call_id is not None:
            position = next(
                (i for i, (_, c) in enumerate(pending) if c.tool_call_id == call_id and i not in answers),
                None,
            )
            if position is None:
                orphans.append(index)
            else:
                answers[position] = item
            last_was_result = True
            continue
        calls = api.tool_calls_in(item)
        role = item.get("role")
        starts_new_turn = (
            last_was_result
            or role in ("user", "system", "developer")
            or (role == "assistant" and "type" not in item and not calls)
        )
        if pending and starts_new_turn:
            flush()
        last_was_result = False
        out.append(item)
        for call in calls:
            pending.append((seen, call))
            seen += 1
    flush()
    return Repaired(out, dangling, seen, orphans)

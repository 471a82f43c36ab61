"""Make a stored thread safe to send: every tool call followed by exactly one result, in call order.

A process can die between persisting an assistant message with tool calls and persisting all of
their results, and results are persisted in completion order. ``repair_history`` puts the
results that exist back in call order right after their calls, drops results whose call is
unknown, and marks the calls that have no result so the loop can close them.
"""

from __future__ import annotations

import logging
from typing import Any

from ._models import ModelAPI, ToolCall

logger = logging.getLogger("agentkit")

Slot = dict[str, Any] | ToolCall
"""A history item, or a ``ToolCall`` standing where its missing result belongs."""


def repair_history(api: ModelAPI, items: list[dict[str, Any]]) -> tuple[list[Slot], list[ToolCall]]:
    """Return the history with results ordered and gaps marked, and the calls without a result."""
    results: dict[str, dict[str, Any]] = {}
    for item in items:
        call_id = api.result_call_id(item)
        if call_id is not None:
            results[call_id] = item
    out: list[Slot] = []
    pending: list[ToolCall] = []
    dangling: list[ToolCall] = []
    last_was_result = False

    def flush() -> None:
        for call in pending:
            result = results.pop(call.call_id, None)
            if result is None:
                out.append(call)
                dangling.append(call)
            else:
                out.append(result)
        pending.clear()

    for item in items:
        if api.result_call_id(item) is not None:
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
        pending.extend(calls)
    flush()
    for call_id in results:
        logger.warning("dropping a stored tool result for unknown call %s", call_id)
    return out, dangling

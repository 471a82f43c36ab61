"""Invariant I1, checked on every request the scripted model receives, as the real API does.

Every assistant message with ``tool_calls`` must be followed by exactly one result per call id,
and no tool result may answer a call that is not open. The API answers a request that breaks
this with a 400; so does the scripted model, with the API's own wording, so a test that makes
the loop send such a request fails loudly wherever it happens.
"""

from __future__ import annotations

from typing import Any


def pairing_problem(body: dict[str, Any]) -> str | None:
    """Return the API's error message for a request whose tool calls and results do not pair up."""
    if isinstance(body.get("messages"), list):
        return _chat(body["messages"])
    if isinstance(body.get("input"), list):
        return _responses(body["input"])
    return None


def _chat(messages: list[Any]) -> str | None:
    open_ids: list[str] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in open_ids:
                return (
                    f"Invalid parameter: messages[{index}]: messages with role 'tool' must be a response "
                    f"to a preceeding message with 'tool_calls' (tool_call_id {call_id!r})."
                )
            open_ids.remove(call_id)
            continue
        if open_ids:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages responding to "
                f"each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                f"{', '.join(open_ids)}"
            )
        if role == "assistant":
            ids = [str(tc.get("id")) for tc in message.get("tool_calls") or () if isinstance(tc, dict)]
            if len(set(ids)) != len(ids):
                return f"Invalid parameter: messages[{index}]: duplicate tool_call ids {ids}."
            open_ids = list(ids)
    if open_ids:
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'. The following tool_call_ids did not have response messages: "
            f"{', '.join(open_ids)}"
        )
    return None


def _responses(items: list[Any]) -> str | None:
    calls: dict[str, int] = {}
    answered: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            calls[item.get("call_id", "")] = calls.get(item.get("call_id", ""), 0) + 1
        elif item.get("type") == "function_call_output":
            call_id = item.get("call_id", "")
            if call_id not in calls or call_id in answered:
                return f"No tool call found for function call output with call_id {call_id}."
            answered.add(call_id)
    missing = [c for c in calls if c not in answered]
    if missing:
        return f"No tool output found for function call {missing[0]}."
    return None

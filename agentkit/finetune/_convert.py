"""Bring a conversation from either wire format into the fine-tuning chat format.

The training format is Chat Completions messages: ``system``/``user``/``assistant``/``tool``
roles, assistant ``tool_calls`` whose ``arguments`` is a JSON **string**, and ``tool`` messages
keyed by ``tool_call_id``. Sessions and results of agents on the Responses API hold Responses
items instead (``message``, ``function_call``, ``function_call_output``, ``reasoning``); they are
converted here. Reasoning items are dropped: they are not part of the training format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .._redact import redact

__all__ = ["canonical", "chat_messages", "chat_tools", "scrub_message"]

# Keys the fine-tuning format knows, per role; anything else the API returned (``refusal: null``,
# ``annotations``, ``audio``) is dropped.
_KEEP = {
    "system": ("role", "content", "name"),
    "developer": ("role", "content", "name"),
    "user": ("role", "content", "name"),
    "assistant": ("role", "content", "name", "tool_calls", "weight"),
    "tool": ("role", "content", "tool_call_id"),
}


def _text(content: Any) -> Any:
    """Content parts that are all text become one string; other parts (images) are kept."""
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") in ("text", "input_text", "output_text") for p in content
    ):
        return "".join(str(p.get("text", "")) for p in content)
    return content


def _chat_message(message: dict[str, Any]) -> dict[str, Any]:
    role = message.get("role")
    keep = _KEEP.get(str(role), tuple(message))
    out = {k: message[k] for k in keep if k in message}
    if "content" in out:
        out["content"] = _text(out["content"])
    if role == "assistant":
        calls = [
            {
                "id": tc.get("id", ""),
                "type": "function",
                "function": {
                    "name": (tc.get("function") or {}).get("name", ""),
                    "arguments": (tc.get("function") or {}).get("arguments") or "{}",
                },
            }
            for tc in message.get("tool_calls") or ()
        ]
        if calls:
            out["tool_calls"] = calls
        else:
            out.pop("tool_calls", None)
        out.setdefault("content", None)
    return out


def chat_messages(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return ``items`` (Chat Completions messages or Responses items) as chat messages.

    Consecutive ``function_call`` items join the assistant message before them, as one message
    with several ``tool_calls``, the way Chat Completions writes parallel calls.
    """
    out: list[dict[str, Any]] = []
    for item in items:
        kind = item.get("type")
        if kind == "function_call":
            call = {
                "id": item.get("call_id", ""),
                "type": "function",
                "function": {"name": item.get("name", ""), "arguments": item.get("arguments") or "{}"},
            }
            last = out[-1] if out else None
            # Text and calls of one Responses turn are separate items; in chat they are one message.
            if last is not None and last.get("role") == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            content = output if isinstance(output, str) else json.dumps(output)
            out.append({"role": "tool", "tool_call_id": item.get("call_id", ""), "content": content})
        elif kind == "reasoning":
            continue
        elif "role" in item:
            out.append(_chat_message(item))
    return out


def chat_tools(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """Return tools as the fine-tuning format takes them: ``{"type": "function", "function": {...}}``.

    Accepts ``agentkit.Tool`` objects, Chat Completions tool params and Responses tool params.
    ``strict`` is left out: the training format describes the function, not decoding options.
    """
    out = []
    for tool in tools:
        if hasattr(tool, "to_openai"):
            tool = tool.to_openai()
        fn = tool.get("function") if "function" in tool else tool
        entry = {
            "name": fn["name"],
            "description": fn.get("description") or "",
            "parameters": fn.get("parameters"),
        }
        if entry["parameters"] is None:
            entry.pop("parameters")
        out.append({"type": "function", "function": entry})
    return out


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def scrub_message(message: dict[str, Any]) -> dict[str, Any]:
    """Return ``message`` with secrets redacted in its content and tool-call arguments.

    Arguments are redacted value by value inside the parsed JSON, so they stay a valid JSON string.
    """
    out = dict(message)
    if "content" in out:
        out["content"] = _scrub(out["content"])
    if out.get("tool_calls"):
        calls = []
        for tc in out["tool_calls"]:
            args = tc["function"]["arguments"]
            try:
                scrubbed = json.dumps(_scrub(json.loads(args)), ensure_ascii=False)
            except ValueError:
                scrubbed = redact(args)
            calls.append({**tc, "function": {**tc["function"], "arguments": scrubbed}})
        out["tool_calls"] = calls
    return out


def canonical(value: Any) -> str:
    """A stable JSON text for hashing and comparing examples."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

"""History items as readable text: messages, tool calls with their arguments, tool results.

The one renderer of wire items, used by ``agentkit sessions show`` and ``agentkit replay``.
Understands both Chat Completions messages and Responses items; anything else is shown as JSON
rather than dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def render_transcript(items: Iterable[dict[str, Any]]) -> str:
    """Return one or more lines per item, in order."""
    return "\n".join(render_items(items))


def render_items(
    items: Iterable[Any], names: dict[str, str] | None = None, limit: int | None = None
) -> list[str]:
    """The lines for ``items``.

    Args:
        items: History items of either API.
        names: Tool names by call id, filled in as calls are rendered; pass the same dict for
            the items of later requests so their tool results are named.
        limit: Shorten a text longer than this many characters (``None``: never).
    """
    names = {} if names is None else names
    lines: list[str] = []
    for item in items:
        rendered = _render(item, names) if isinstance(item, dict) else [repr(item)]
        lines.extend(_shorten(line, limit) for line in rendered)
    return lines


def _shorten(line: str, limit: int | None) -> str:
    if limit is None or len(line) <= limit:
        return line
    return line[:limit] + f"… ({len(line)} chars)"


def _render(item: dict[str, Any], names: dict[str, str]) -> list[str]:
    kind = item.get("type")
    role = item.get("role")
    if kind == "function_call":  # Responses
        call_id = str(item.get("call_id", ""))
        names[call_id] = str(item.get("name", "?"))
        return [_call_line(names[call_id], item.get("arguments"), call_id)]
    if kind == "function_call_output":
        call_id = str(item.get("call_id", ""))
        return [_result_line(names.get(call_id, "?"), call_id, item.get("output"))]
    if kind == "reasoning":
        summary = " ".join(_text(part) for part in item.get("summary") or [])
        return [f"(reasoning) {summary}".rstrip()]
    if role == "tool":  # Chat Completions
        call_id = str(item.get("tool_call_id", ""))
        return [_result_line(names.get(call_id, "?"), call_id, item.get("content"))]
    if isinstance(role, str) and (kind in (None, "message")):
        lines = []
        text = _text(item.get("content"))
        if text or not item.get("tool_calls"):
            lines.append(f"{role}: {text}")
        for call in item.get("tool_calls") or []:
            function = call.get("function") or {}
            call_id = str(call.get("id", ""))
            names[call_id] = str(function.get("name", "?"))
            lines.append(_call_line(names[call_id], function.get("arguments"), call_id))
        if item.get("refusal"):
            lines.append(f"{role} (refusal): {item['refusal']}")
        return lines
    return [f"[{kind or 'item'}] {json.dumps(item, ensure_ascii=False)}"]


def _call_line(name: str, arguments: Any, call_id: str) -> str:
    return f"  -> {name}({_arguments(arguments)})  [{call_id}]"


def _result_line(name: str, call_id: str, content: Any) -> str:
    return f"  <- {name} [{call_id}]: {_text(content)}"


def _arguments(arguments: Any) -> str:
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError:
        return str(arguments)
    if isinstance(parsed, dict):
        return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in parsed.items())
    return json.dumps(parsed, ensure_ascii=False)


def _text(content: Any) -> str:
    """The readable text of a message's content: a string or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(t for t in (_text(part) for part in content) if t)
    if isinstance(content, dict):
        for key in ("text", "refusal", "output"):
            if isinstance(content.get(key), str):
                return str(content[key])
        return f"[{content.get('type', 'part')}]"
    return str(content)

"""Read a recorded conversation out of cassette interactions: turns, tool calls, tool results.

Both APIs, whole and streamed: a streamed reply is reassembled from its server-sent events the
way the SDK would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .._result import ToolCall
from ._matching import endpoint

__all__ = ["Turn", "parse_turn", "read_turns", "tool_results"]


@dataclass
class Turn:
    """One recorded request and what the model answered."""

    endpoint: str
    """``/chat/completions`` or ``/responses``."""
    request: Any
    """The request body (parsed JSON)."""
    status: int
    """HTTP status of the reply."""
    text: str | None = None
    """The assistant's text, if any."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Tool calls in order."""
    usage: dict[str, Any] = field(default_factory=dict)
    """The reply's ``usage`` as sent."""
    error: dict[str, Any] | None = None
    """The ``error`` object of a failed request."""
    stream: bool = False
    """Whether the reply was streamed."""


def _sse_events(text: str) -> list[Any]:
    events = []
    for line in text.splitlines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            if payload and payload != "[DONE]":
                try:
                    events.append(json.loads(payload))
                except ValueError:
                    continue
    return events


def _chat_message(data: dict[str, Any], turn: Turn) -> None:
    choices = data.get("choices") or [{}]
    message = choices[0].get("message") or {}
    turn.text = message.get("content")
    for tc in message.get("tool_calls") or ():
        fn = tc.get("function") or {}
        turn.tool_calls.append(ToolCall(tc.get("id", ""), fn.get("name", ""), fn.get("arguments") or ""))
    turn.usage = data.get("usage") or {}


def _chat_stream(events: list[Any], turn: Turn) -> None:
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    for chunk in events:
        if chunk.get("usage"):
            turn.usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content"):
                text.append(delta["content"])
            for tc in delta.get("tool_calls") or ():
                entry = calls.setdefault(tc.get("index", 0), {"id": "", "name": "", "arguments": ""})
                entry["id"] = tc.get("id") or entry["id"]
                fn = tc.get("function") or {}
                if fn.get("name") and fn["name"] != entry["name"]:
                    entry["name"] += fn["name"]
                entry["arguments"] += fn.get("arguments") or ""
    turn.text = "".join(text) if text else None
    turn.tool_calls = [ToolCall(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())]


def _responses_output(data: dict[str, Any], turn: Turn) -> None:
    texts = []
    for item in data.get("output") or ():
        if item.get("type") == "function_call":
            turn.tool_calls.append(
                ToolCall(item.get("call_id", ""), item.get("name", ""), item.get("arguments") or "")
            )
        elif item.get("type") == "message":
            texts += [
                p.get("text") or "" for p in item.get("content") or () if p.get("type") == "output_text"
            ]
    turn.text = "".join(texts) if texts else None
    turn.usage = data.get("usage") or {}


def _responses_stream(events: list[Any], turn: Turn) -> None:
    done: dict[int, dict[str, Any]] = {}
    for event in events:
        kind = event.get("type")
        if kind == "response.output_item.done":
            done[event.get("output_index", len(done))] = event.get("item") or {}
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            final = dict(event.get("response") or {})
            if not final.get("output"):
                final["output"] = [item for _, item in sorted(done.items())]
            _responses_output(final, turn)
            return
    _responses_output({"output": [item for _, item in sorted(done.items())]}, turn)


def parse_turn(uri: str, request_body: Any, status: int, response_body: Any) -> Turn:
    """Read one interaction as a turn of the conversation."""
    path = endpoint(uri)
    turn = Turn(path, request_body, status)
    if isinstance(response_body, dict) and "error" in response_body and status >= 400:
        turn.error = response_body["error"] if isinstance(response_body["error"], dict) else {}
        return turn
    if isinstance(response_body, str):
        turn.stream = True
        events = _sse_events(response_body)
        if path.endswith("/responses"):
            _responses_stream(events, turn)
        else:
            _chat_stream(events, turn)
    elif isinstance(response_body, dict):
        if path.endswith("/responses"):
            _responses_output(response_body, turn)
        else:
            _chat_message(response_body, turn)
    return turn


def read_turns(interactions: list[dict[str, Any]]) -> list[Turn]:
    """Turns for interactions as loaded by ``load_interactions``."""
    return [
        parse_turn(
            str(i["request"].get("uri", "")),
            i["request"].get("body"),
            int((i["response"].get("status") or {}).get("code", 200)),
            i["response"].get("body"),
        )
        for i in interactions
    ]


def tool_results(turns: list[Turn]) -> dict[str, str]:
    """Tool results by call id, as the client sent them back in later requests."""
    results: dict[str, str] = {}
    for turn in turns:
        body = turn.request if isinstance(turn.request, dict) else {}
        for item in body.get("messages") or body.get("input") or ():
            if not isinstance(item, dict):
                continue
            if item.get("role") == "tool" and "tool_call_id" in item:
                results[item["tool_call_id"]] = _content_text(item.get("content"))
            elif item.get("type") == "function_call_output" and "call_id" in item:
                results[item["call_id"]] = _content_text(item.get("output"))
    return results


def _content_text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)

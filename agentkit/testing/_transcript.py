"""Read a recorded conversation out of cassette interactions: turns, tool calls, tool results.

Both APIs, whole and streamed. Replies are read by the loop's own readers (``agentkit._wire``),
so a recording means exactly what the same reply means to an agent; only decoding the
server-sent events of a stored body is done here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .._result import ToolCall, Usage
from .._wire import ModelTurn
from .._wire._chat import ChatStream, read_completion
from .._wire._responses import ResponsesStream, read_response
from ..exceptions import AgentkitError
from ._matching import endpoint

__all__ = ["Turn", "parse_turn", "read_turns", "tool_results"]


@dataclass
class Turn:
    """One recorded request and what the model answered."""

    endpoint: str
    """``/chat/completions`` or ``/responses`` (or another path, for ``record_hosts`` traffic)."""
    request: Any
    """The request body (parsed JSON)."""
    status: int
    """HTTP status of the reply."""
    text: str | None = None
    """The assistant's text, if any."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Tool calls in order."""
    usage: Usage = field(default_factory=Usage)
    """The reply's usage."""
    error: dict[str, Any] | None = None
    """The ``error`` object of a failed request (or why the reply cannot be read)."""
    stream: bool = False
    """Whether the reply was streamed."""
    method: str = "POST"
    """The HTTP method."""
    uri: str = ""
    """The request URL as recorded (credentials scrubbed)."""
    reply: Any = None
    """The reply body (parsed JSON or text)."""

    @property
    def is_model(self) -> bool:
        """Whether this is a request to the model API (not a ``record_hosts`` request)."""
        return self.endpoint in ("/chat/completions", "/responses")


def _sse_events(text: str) -> list[dict[str, Any]]:
    events = []
    for line in text.splitlines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            if payload and payload != "[DONE]":
                try:
                    event = json.loads(payload)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    events.append(event)
    return events


def _read(path: str, body: Any) -> ModelTurn:
    """Read a reply with the loop's own readers (one home for the wire format)."""
    responses = path.endswith("/responses")
    if not isinstance(body, str):
        return read_response(body) if responses else read_completion(body)
    reader = ResponsesStream() if responses else ChatStream()
    for event in _sse_events(body):
        reader.feed(event)
    return reader.turn()


def parse_turn(uri: str, request_body: Any, status: int, response_body: Any, method: str = "POST") -> Turn:
    """Read one interaction as a turn of the conversation."""
    path = endpoint(uri)
    turn = Turn(path, request_body, status, method=method, uri=uri, reply=response_body)
    turn.stream = isinstance(response_body, str) and "data:" in response_body
    if not turn.is_model:
        return turn
    if isinstance(response_body, dict) and "error" in response_body and status >= 400:
        turn.error = response_body["error"] if isinstance(response_body["error"], dict) else {}
        return turn
    if not isinstance(response_body, (str, dict)):
        return turn
    try:
        read = _read(path, response_body)
    except AgentkitError as error:  # a failed response, a stream cut short when it was recorded
        turn.error = {"type": type(error).__name__, "message": str(error)}
        return turn
    turn.text, turn.tool_calls, turn.usage = read.text, read.tool_calls, read.usage
    return turn


def read_turns(interactions: list[dict[str, Any]]) -> list[Turn]:
    """Turns for interactions as loaded by ``load_interactions``."""
    return [
        parse_turn(
            str(i["request"].get("uri", "")),
            i["request"].get("body"),
            int((i["response"].get("status") or {}).get("code", 200)),
            i["response"].get("body"),
            str(i["request"].get("method", "POST")),
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

"""A model server that sends exactly the bytes a test gives it: for shapes the scripted model
never produces (broken streams, odd deltas, missing ids), as OpenAI-compatible servers send them.

Each handler receives the parsed request body and returns ``(status, content_type, body)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx2
from openai import AsyncOpenAI

Raw = tuple[int, str, bytes]


class RawModel:
    """Answers request N with ``replies[N]`` (a raw response), recording every request body."""

    def __init__(self, replies: Sequence[Raw | Callable[[dict[str, Any]], Raw]]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        item = self.replies[len(self.requests) - 1]
        status, content_type, content = item(body) if callable(item) else item
        return httpx2.Response(status, content=content, headers={"content-type": content_type})

    def client(self) -> AsyncOpenAI:
        return AsyncOpenAI(
            api_key="test",
            base_url="http://raw.test/v1",
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self._handle)),
            max_retries=0,
        )


def sse(*events: Any, done: bool = True) -> Raw:
    """A Server-Sent Events body from JSON-able events (strings are sent as raw ``data:`` lines)."""
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    if done:
        lines.append("data: [DONE]\n\n")
    return 200, "text/event-stream", "".join(lines).encode()


def chat_json(message: dict[str, Any], finish_reason: str = "stop", usage: tuple[int, int] = (10, 5)) -> Raw:
    """A whole Chat Completions reply."""
    body = {
        "id": "chatcmpl-raw",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}
        ],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }
    return 200, "application/json", json.dumps(body).encode()


def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    """One streamed Chat Completions chunk."""
    return {
        "id": "chatcmpl-raw",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def final_text(text: str = "done") -> Callable[[dict[str, Any]], Raw]:
    """A final answer, streamed or whole as the request asks."""

    def answer(body: dict[str, Any]) -> Raw:
        if body.get("stream"):
            return sse(chunk({"content": text}), chunk({}, "stop"))
        return chat_json({"content": text})

    return answer

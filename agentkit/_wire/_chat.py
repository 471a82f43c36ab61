"""Chat Completions: ``messages`` in, one assistant message out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .._result import ToolCall, Usage
from ..exceptions import ModelBehaviorError
from . import ModelTurn, Request, usage_from
from ._transport import post_json, post_stream

if TYPE_CHECKING:
    from openai import AsyncOpenAI


class ChatAPI:
    """The ``/chat/completions`` wire format."""

    def user_item(self, text: str) -> dict[str, Any]:
        return {"role": "user", "content": text}

    def tool_result_item(self, call: ToolCall, content: str) -> dict[str, Any]:
        return {"role": "tool", "tool_call_id": call.tool_call_id, "content": content}

    def tool_calls_in(self, item: dict[str, Any]) -> list[ToolCall]:
        if item.get("role") != "assistant":
            return []
        return [
            ToolCall(tc["id"], tc["function"]["name"], tc["function"].get("arguments", ""))
            for tc in item.get("tool_calls") or ()
        ]

    def result_call_id(self, item: dict[str, Any]) -> str | None:
        return item.get("tool_call_id") if item.get("role") == "tool" else None

    def _params(self, request: Request, history: list[dict[str, Any]]) -> dict[str, Any]:
        params = dict(request.common)
        params["messages"] = (
            [{"role": "system", "content": request.instructions}, *history]
            if request.instructions
            else history
        )
        if request.output_schema is not None:
            name, schema = request.output_schema
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True},
            }
        return params

    async def complete(
        self, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]]
    ) -> ModelTurn:
        data = await post_json(client, "/chat/completions", self._params(request, history))
        choices = data.get("choices") or []
        if not choices:
            raise ModelBehaviorError("The model returned no choices.", messages=[], usage=Usage())
        message: dict[str, Any] = choices[0].get("message") or {}
        calls = [
            ToolCall(tc["id"], tc["function"]["name"], tc["function"].get("arguments") or "")
            for tc in message.get("tool_calls") or ()
            if tc.get("type", "function") == "function"
        ]
        return _turn(
            message.get("content"),
            calls,
            message.get("refusal"),
            usage_from(data.get("usage"), "prompt", "completion"),
        )

    async def stream(
        self, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]]
    ) -> AsyncIterator[str | ModelTurn]:
        params = self._params(request, history)
        params["stream"] = True
        params["stream_options"] = {**params.get("stream_options", {}), "include_usage": True}
        text: list[str] = []
        refusal: list[str] = []
        # Fragments of each call, keyed by the call's ``index`` in the message.
        calls: dict[int, dict[str, Any]] = {}
        usage = Usage(requests=1)
        # Chunks stay plain dicts: building SDK objects for every chunk would cost more than the rest.
        async with await post_stream(client, "/chat/completions", params) as chunks:
            async for chunk in chunks:
                if chunk.get("usage"):
                    usage = usage_from(chunk["usage"], "prompt", "completion")
                for choice in chunk.get("choices") or ():
                    delta = choice.get("delta") or {}
                    content = delta.get("content")
                    if content:
                        text.append(content)
                        yield content
                    if delta.get("refusal"):
                        refusal.append(delta["refusal"])
                    for tc in delta.get("tool_calls") or ():
                        entry = calls.setdefault(tc.get("index", 0), {"id": "", "name": "", "arguments": []})
                        if tc.get("id"):
                            entry["id"] = tc["id"]
                        fn = tc.get("function") or {}
                        name = fn.get("name")
                        # OpenAI sends the name once; some compatible servers repeat it whole.
                        if name and name != entry["name"]:
                            entry["name"] += name
                        if fn.get("arguments"):
                            entry["arguments"].append(fn["arguments"])
        tool_calls = [ToolCall(c["id"], c["name"], "".join(c["arguments"])) for _, c in sorted(calls.items())]
        yield _turn("".join(text) if text else None, tool_calls, "".join(refusal) or None, usage)


def _turn(content: str | None, calls: list[ToolCall], refusal: str | None, usage: Usage) -> ModelTurn:
    item: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        item["tool_calls"] = [
            {"id": c.tool_call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ]
    if refusal:
        item["refusal"] = refusal
    return ModelTurn(text=content, tool_calls=calls, items=[item], usage=usage, refusal=refusal)

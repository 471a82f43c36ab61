"""Chat Completions: ``messages`` in, one assistant message out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .._result import ToolCall, Usage
from ..exceptions import ModelBehaviorError
from . import ModelTurn, Request, usage_from
from ._transport import post_json, post_stream
from .normalize import ToolCallAssembler, chat_calls, guarded, interrupted

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
        return chat_calls(item)

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
        return _turn(
            message.get("content"),
            chat_calls(message),
            message.get("refusal"),
            usage_from(data.get("usage"), "prompt", "completion"),
            choices[0].get("finish_reason"),
        )

    async def stream(
        self, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]]
    ) -> AsyncIterator[str | ModelTurn]:
        params = self._params(request, history)
        params["stream"] = True
        params["stream_options"] = {**params.get("stream_options", {}), "include_usage": True}
        text: list[str] = []
        refusal: list[str] = []
        calls = ToolCallAssembler()
        usage = Usage(requests=1)
        finish_reason: str | None = None
        # Chunks stay plain dicts: building SDK objects for every chunk would cost more than the rest.
        async with await post_stream(client, "/chat/completions", params) as chunks:
            async for chunk in guarded(chunks):
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
                        calls.add(tc)
                    finish_reason = choice.get("finish_reason") or finish_reason
        if finish_reason is None:
            raise interrupted("its finish_reason (a proxy or the server closed it early)")
        yield _turn(
            "".join(text) if text else None, calls.calls(), "".join(refusal) or None, usage, finish_reason
        )


def _turn(
    content: str | None, calls: list[ToolCall], refusal: str | None, usage: Usage, finish_reason: str | None
) -> ModelTurn:
    item: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        item["tool_calls"] = [
            {"id": c.tool_call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ]
    if refusal:
        item["refusal"] = refusal
    return ModelTurn(
        text=content,
        tool_calls=calls,
        items=[item],
        usage=usage,
        refusal=refusal,
        finish_reason=finish_reason,
    )

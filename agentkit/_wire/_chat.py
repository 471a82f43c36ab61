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
        return read_completion(await post_json(client, "/chat/completions", self._params(request, history)))

    async def stream(
        self, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]]
    ) -> AsyncIterator[str | ModelTurn]:
        params = self._params(request, history)
        params["stream"] = True
        params["stream_options"] = {**params.get("stream_options", {}), "include_usage": True}
        reader = ChatStream()
        # Chunks stay plain dicts: building SDK objects for every chunk would cost more than the rest.
        async with await post_stream(client, "/chat/completions", params) as chunks:
            async for chunk in guarded(chunks):
                text = reader.feed(chunk)
                if text:
                    yield text
        yield reader.turn()


def read_completion(data: dict[str, Any]) -> ModelTurn:
    """Read a whole ``chat.completion`` object.

    Raises:
        ModelBehaviorError: The reply has no choices.
    """
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


class ChatStream:
    """Reassembles a streamed Chat Completions reply from its decoded chunks, one at a time.

    The loop feeds it the SDK's stream; the test kit feeds it the events of a recording.
    """

    def __init__(self) -> None:
        self._text: list[str] = []
        self._refusal: list[str] = []
        self._calls = ToolCallAssembler()
        self._usage = Usage(requests=1)
        self._finish_reason: str | None = None

    def feed(self, chunk: dict[str, Any]) -> str | None:
        """Fold one chunk in; return the text it adds, if any."""
        if chunk.get("usage"):
            self._usage = usage_from(chunk["usage"], "prompt", "completion")
        added: list[str] = []
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content"):
                added.append(delta["content"])
            if delta.get("refusal"):
                self._refusal.append(delta["refusal"])
            for tc in delta.get("tool_calls") or ():
                self._calls.add(tc)
            self._finish_reason = choice.get("finish_reason") or self._finish_reason
        self._text += added
        return "".join(added) or None

    def turn(self) -> ModelTurn:
        """The whole reply.

        Raises:
            StreamInterruptedError: No chunk carried a ``finish_reason``.
        """
        if self._finish_reason is None:
            raise interrupted("its finish_reason (a proxy or the server closed it early)")
        text = "".join(self._text) if self._text else None
        return _turn(
            text, self._calls.calls(), "".join(self._refusal) or None, self._usage, self._finish_reason
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

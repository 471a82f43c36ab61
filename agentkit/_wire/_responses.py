"""The Responses API: ``input`` items in, ``output`` items out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .._result import ToolCall, Usage
from ..exceptions import ModelBehaviorError
from . import ModelTurn, Request, usage_from
from ._transport import post_json, post_stream
from .normalize import guarded, interrupted, responses_calls

if TYPE_CHECKING:
    from openai import AsyncOpenAI


class ResponsesAPI:
    """The ``/responses`` wire format.

    Output items (reasoning, function calls, messages) go back into ``input`` unchanged on the
    next turn, which is what reasoning models need, including ``store: false`` with
    ``include: ["reasoning.encrypted_content"]``.
    """

    def user_item(self, text: str) -> dict[str, Any]:
        return {"role": "user", "content": text}

    def tool_result_item(self, call: ToolCall, content: str) -> dict[str, Any]:
        return {"type": "function_call_output", "call_id": call.tool_call_id, "output": content}

    def tool_calls_in(self, item: dict[str, Any]) -> list[ToolCall]:
        if item.get("type") != "function_call":
            return []
        return responses_calls([item])[1]

    def result_call_id(self, item: dict[str, Any]) -> str | None:
        return item.get("call_id") if item.get("type") == "function_call_output" else None

    def _params(self, request: Request, history: list[dict[str, Any]]) -> dict[str, Any]:
        params = dict(request.common)
        params["input"] = history
        if request.instructions:
            params["instructions"] = request.instructions
        if request.output_schema is not None:
            name, schema = request.output_schema
            text = dict(params.get("text") or {})
            text["format"] = {"type": "json_schema", "name": name, "schema": schema, "strict": True}
            params["text"] = text
        return params

    async def complete(
        self, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]]
    ) -> ModelTurn:
        return read_response(await post_json(client, "/responses", self._params(request, history)))

    async def stream(
        self, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]]
    ) -> AsyncIterator[str | ModelTurn]:
        params = self._params(request, history)
        params["stream"] = True
        reader = ResponsesStream()
        async with await post_stream(client, "/responses", params) as events:
            async for event in guarded(events):
                text = reader.feed(event)
                if text:
                    yield text
        yield reader.turn()


class ResponsesStream:
    """Reassembles a streamed Responses reply from its decoded events, one at a time.

    The loop feeds it the SDK's stream; the test kit feeds it the events of a recording.
    """

    def __init__(self) -> None:
        # Items as they complete, by output_index; the final response event repeats them all.
        self._done: dict[int, dict[str, Any]] = {}
        self._final: dict[str, Any] | None = None

    def feed(self, event: dict[str, Any]) -> str | None:
        """Fold one event in; return the text it adds, if any."""
        kind = event.get("type")
        if kind == "response.output_text.delta":
            return str(event.get("delta") or "") or None
        if kind == "response.output_item.done":
            self._done[event.get("output_index", len(self._done))] = event.get("item") or {}
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self._final = dict(event.get("response") or {})
        return None

    def turn(self) -> ModelTurn:
        """The whole reply.

        Raises:
            StreamInterruptedError: The stream had no final response event.
            ModelBehaviorError: The response failed.
        """
        if self._final is None:
            raise interrupted("its final response event")
        final = self._final
        if not final.get("output"):
            final["output"] = [item for _, item in sorted(self._done.items())]
        return read_response(final)


def read_response(data: dict[str, Any]) -> ModelTurn:
    """Read a whole ``response`` object.

    Raises:
        ModelBehaviorError: The response failed.
    """
    if data.get("status") == "failed":
        error = data.get("error") or {}
        raise ModelBehaviorError(
            f"The response failed: {error.get('code')}: {error.get('message')}", messages=[], usage=Usage()
        )
    items, calls = responses_calls(data.get("output") or [])
    texts: list[str] = []
    refusals: list[str] = []
    for item in items:
        if item.get("type") == "message":
            for part in item.get("content") or ():
                if part.get("type") == "output_text":
                    texts.append(part.get("text") or "")
                elif part.get("type") == "refusal":
                    refusals.append(part.get("refusal") or "")
    return ModelTurn(
        text="".join(texts) if texts else None,
        tool_calls=calls,
        items=items,
        usage=usage_from(data.get("usage"), "input", "output"),
        refusal="".join(refusals) or None,
        finish_reason=_finish_reason(data, calls),
    )


def _finish_reason(data: dict[str, Any], calls: list[ToolCall]) -> str:
    """Map a response's ``status`` to a Chat Completions ``finish_reason``."""
    if data.get("status") == "incomplete":
        reason = (data.get("incomplete_details") or {}).get("reason")
        return "content_filter" if reason == "content_filter" else "length"
    return "tool_calls" if calls else "stop"

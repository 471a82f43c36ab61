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
        return _turn(await post_json(client, "/responses", self._params(request, history)))

    async def stream(
        self, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]]
    ) -> AsyncIterator[str | ModelTurn]:
        params = self._params(request, history)
        params["stream"] = True
        # Items as they complete, by output_index; the final response event repeats them all.
        done: dict[int, dict[str, Any]] = {}
        final: dict[str, Any] | None = None
        async with await post_stream(client, "/responses", params) as events:
            async for event in guarded(events):
                kind = event.get("type")
                if kind == "response.output_text.delta":
                    yield event["delta"]
                elif kind == "response.output_item.done":
                    done[event["output_index"]] = event["item"]
                elif kind in ("response.completed", "response.incomplete", "response.failed"):
                    final = event["response"]
        if final is None:
            raise interrupted("its final response event")
        if not final.get("output"):
            final["output"] = [item for _, item in sorted(done.items())]
        yield _turn(final)


def _turn(data: dict[str, Any]) -> ModelTurn:
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

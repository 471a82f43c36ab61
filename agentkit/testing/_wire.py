"""Render a scripted reply as the bytes OpenAI would send: JSON or server-sent events.

The shapes follow real recordings from api.openai.com (Chat Completions and Responses, whole
and streamed), so the ``openai`` SDK parses them through its ordinary code path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# A fixed timestamp keeps rendered replies byte-for-byte reproducible.
CREATED = 1_700_000_000


@dataclass(frozen=True)
class RenderedCall:
    """A tool call with its ids assigned."""

    call_id: str
    """``call_…``: the id the tool result is keyed by."""
    item_id: str
    """``fc_…``: the Responses API's item id."""
    name: str
    """The function name."""
    arguments: str
    """The JSON arguments string, exactly as sent."""


@dataclass(frozen=True)
class RenderedReply:
    """Everything needed to write one successful reply in either API."""

    number: int
    """1-based number of the request this answers; used in the reply's ids."""
    model: str
    """The model named by the request."""
    text: str | None
    """The assistant text."""
    refusal: str | None
    """A refusal instead of text."""
    calls: list[RenderedCall]
    """Tool calls in order."""
    usage: tuple[int, int] | tuple[int, int, int]
    """``(input_tokens, output_tokens)``, optionally ``cached_tokens`` (part of the input) third."""
    finish_reason: str
    """Chat Completions' ``finish_reason``: ``stop``, ``tool_calls`` or ``length``."""
    chunk_size: int
    """Characters per streamed fragment of arguments; text is streamed word by word."""


def usage_of(reply: RenderedReply) -> tuple[int, int, int]:
    """``(input, output, cached input)`` tokens of a reply."""
    prompt, completion, *cached = reply.usage
    return prompt, completion, cached[0] if cached else 0


def models_json(names: Sequence[str]) -> dict[str, Any]:
    """Render ``GET /models``: a list of model objects."""
    data = [{"id": name, "object": "model", "created": CREATED, "owned_by": "scripted"} for name in names]
    return {"object": "list", "data": data}


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _words(text: str) -> list[str]:
    """Split text into fragments that each start with their leading whitespace, like real tokens."""
    pieces: list[str] = []
    current = ""
    for ch in text:
        if ch.isspace() and current and not current.isspace():
            pieces.append(current)
            current = ""
        current += ch
    if current:
        pieces.append(current)
    return pieces or [""]


def _fragments(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


# --- Chat Completions ---------------------------------------------------------------------------


def _chat_usage(reply: RenderedReply) -> dict[str, Any]:
    prompt, completion, cached = usage_of(reply)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _chat_envelope(reply: RenderedReply, obj: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-scripted{reply.number}",
        "object": obj,
        "created": CREATED,
        "model": reply.model,
        "service_tier": "default",
        "system_fingerprint": "fp_scripted",
    }


def chat_json(reply: RenderedReply) -> dict[str, Any]:
    """Render a ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.calls:
        message["tool_calls"] = [
            {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in reply.calls
        ]
    message["refusal"] = reply.refusal
    message["annotations"] = []
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}
    return {
        **_chat_envelope(reply, "chat.completion"),
        "choices": [choice],
        "usage": _chat_usage(reply),
    }


def chat_sse(reply: RenderedReply, include_usage: bool) -> Iterator[str]:
    """Render a Chat Completions stream: ``data:`` chunks, then ``data: [DONE]``."""
    envelope = _chat_envelope(reply, "chat.completion.chunk")

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        data = {
            **envelope,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        if include_usage:
            data["usage"] = None
        return f"data: {_dumps(data)}\n\n"

    if reply.calls and reply.text is None:
        yield chunk({"role": "assistant", "content": None})
    else:
        yield chunk({"role": "assistant", "content": "", "refusal": None})
    if reply.text:
        for piece in _words(reply.text):
            yield chunk({"content": piece})
    if reply.refusal:
        for piece in _words(reply.refusal):
            yield chunk({"refusal": piece})
    for index, call in enumerate(reply.calls):
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.call_id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            }
        )
        for fragment in _fragments(call.arguments, reply.chunk_size):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
    yield chunk({}, reply.finish_reason)
    if include_usage:
        yield f"data: {_dumps({**envelope, 'choices': [], 'usage': _chat_usage(reply)})}\n\n"
    yield "data: [DONE]\n\n"


# --- Responses ----------------------------------------------------------------------------------


def _message_item(reply: RenderedReply, status: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.text is not None:
        content.append({"type": "output_text", "annotations": [], "logprobs": [], "text": reply.text})
    if reply.refusal is not None:
        content.append({"type": "refusal", "refusal": reply.refusal})
    return {
        "id": f"msg_scripted{reply.number}",
        "type": "message",
        "status": status,
        "content": content,
        "role": "assistant",
    }


def _call_item(call: RenderedCall, status: str, arguments: str | None = None) -> dict[str, Any]:
    return {
        "id": call.item_id,
        "type": "function_call",
        "status": status,
        "arguments": call.arguments if arguments is None else arguments,
        "call_id": call.call_id,
        "name": call.name,
    }


def _output(reply: RenderedReply) -> list[dict[str, Any]]:
    items = [_message_item(reply, "completed")] if reply.text is not None or reply.refusal else []
    return items + [_call_item(c, "completed") for c in reply.calls]


def responses_json(reply: RenderedReply, request: dict[str, Any], *, final: bool = True) -> dict[str, Any]:
    """Render a ``response`` object; ``final=False`` gives the in-progress shell that streams start with."""
    incomplete = reply.finish_reason == "length"
    prompt, completion, cached = usage_of(reply)
    status = "in_progress" if not final else "incomplete" if incomplete else "completed"
    return {
        "id": f"resp_scripted{reply.number}",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if final and incomplete else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": reply.model,
        "output": _output(reply) if final else [],
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": request.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": request.get("store", True),
        "temperature": request.get("temperature", 1.0),
        "text": request.get("text") or {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }
        if final
        else None,
        "user": None,
        "metadata": {},
    }


def responses_sse(reply: RenderedReply, request: dict[str, Any]) -> Iterator[str]:
    """Render a Responses stream with the event sequence the real API sends."""
    sequence = 0

    def event(kind: str, **fields: Any) -> str:
        nonlocal sequence
        data = {"type": kind, "sequence_number": sequence, **fields}
        sequence += 1
        return f"event: {kind}\ndata: {_dumps(data)}\n\n"

    shell = responses_json(reply, request, final=False)
    yield event("response.created", response=shell)
    yield event("response.in_progress", response=shell)
    index = 0
    if reply.text is not None or reply.refusal:
        msg_id = f"msg_scripted{reply.number}"
        pending = {**_message_item(reply, "in_progress"), "content": []}
        yield event("response.output_item.added", output_index=index, item=pending)
        for content_index, part in enumerate(_message_item(reply, "completed")["content"]):
            where = {"item_id": msg_id, "output_index": index, "content_index": content_index}
            if part["type"] == "output_text":
                yield event("response.content_part.added", **where, part={**part, "text": ""})
                for piece in _words(part["text"]):
                    yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
                yield event("response.output_text.done", **where, text=part["text"], logprobs=[])
            else:
                yield event("response.content_part.added", **where, part={**part, "refusal": ""})
                for piece in _words(part["refusal"]):
                    yield event("response.refusal.delta", **where, delta=piece)
                yield event("response.refusal.done", **where, refusal=part["refusal"])
            yield event("response.content_part.done", **where, part=part)
        yield event("response.output_item.done", output_index=index, item=_message_item(reply, "completed"))
        index += 1
    for call in reply.calls:
        yield event(
            "response.output_item.added", output_index=index, item=_call_item(call, "in_progress", "")
        )
        for fragment in _fragments(call.arguments, reply.chunk_size):
            yield event(
                "response.function_call_arguments.delta",
                item_id=call.item_id,
                output_index=index,
                delta=fragment,
            )
        yield event(
            "response.function_call_arguments.done",
            item_id=call.item_id,
            output_index=index,
            arguments=call.arguments,
        )
        yield event("response.output_item.done", output_index=index, item=_call_item(call, "completed"))
        index += 1
    final = responses_json(reply, request)
    kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    yield event(kind, response=final)


# --- Errors -------------------------------------------------------------------------------------

# What api.openai.com answers for each status when the script gives no message of its own.
_ERROR_DEFAULTS: dict[int, tuple[str, str, str | None]] = {
    400: ("invalid_request_error", "Invalid request (scripted).", None),
    401: (
        "invalid_request_error",
        "Incorrect API key provided: sk-test. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_api_key",
    ),
    403: ("invalid_request_error", "You are not allowed to sample from this model.", None),
    404: (
        "invalid_request_error",
        "The model does not exist or you do not have access to it.",
        "model_not_found",
    ),
    409: ("invalid_request_error", "The request conflicts with another request.", None),
    422: ("invalid_request_error", "The request could not be processed.", None),
    429: (
        "requests",
        "Rate limit reached for requests. Please try again in 1s.",
        "rate_limit_exceeded",
    ),
    500: ("server_error", "The server had an error while processing your request. Sorry about that!", None),
    503: ("server_error", "The engine is currently overloaded, please try again later.", None),
}


def error_json(
    status: int, message: str | None, type_: str | None, code: str | None, param: str | None
) -> Any:
    """Render OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""
    default_type, default_message, default_code = _ERROR_DEFAULTS.get(
        status,
        ("server_error" if status >= 500 else "invalid_request_error", f"HTTP {status} (scripted).", None),
    )
    return {
        "error": {
            "message": message if message is not None else default_message,
            "type": type_ if type_ is not None else default_type,
            "param": param,
            "code": code if code is not None else default_code,
        }
    }

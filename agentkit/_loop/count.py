"""Count the prompt tokens of history items offline, for either wire format.

``agentkit.tokens.count_tokens`` counts Chat Completions messages exactly (see its docstring).
Responses items are counted as the Chat Completions messages they correspond to, which is an
approximation: a ``message`` item as a message, a ``function_call`` as an assistant tool call, a
``function_call_output`` as a tool message, a ``reasoning`` item as its summary text (its encrypted
content is not counted), any other item as its JSON. Parts that are not text (images, audio,
files) are counted as `NON_TEXT_PART_TOKENS` each. A model without a known tokenizer is counted
with ``o200k_base``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ..models import ModelInfo
from ..tokens import count_tokens

NON_TEXT_PART_TOKENS: Final = 765
"""Tokens counted for one image, audio or file part: what a 1024x1024 image costs at high
detail (OpenAI's vision guide, "Calculating costs", 2025: 85 + 4 tiles * 170)."""

_TEXT_PARTS: Final = {"text": "text", "input_text": "text", "output_text": "text", "refusal": "refusal"}
_PROXY_MODEL: Final = "gpt-4o"
"""Counts models whose tokenizer is unknown with o200k_base, the encoding of current models."""


def counting_model(model: str, info: ModelInfo | None) -> str:
    """The model name to count ``model``'s tokens with."""
    return model if info is not None and info.encoding is not None else _PROXY_MODEL


def item_tokens(item: Mapping[str, Any], model: str) -> int:
    """Prompt tokens one history item adds to a request (message overhead included)."""
    message, extra = as_message(item)
    return count_tokens([message], model=model) - count_tokens([], model=model) + extra


def fixed_tokens(instructions: str | None, tool_params: Sequence[Mapping[str, Any]], model: str) -> int:
    """Prompt tokens of a request with no history: the reply priming, instructions and tools."""
    system = [{"role": "system", "content": instructions}] if instructions else []
    tools = [t if "function" in t else {"type": "function", "function": t} for t in tool_params]
    return count_tokens(system, model=model, tools=tools or None)


def as_message(item: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """The Chat Completions message ``item`` is counted as, and the tokens of its non-text parts."""
    kind = item.get("type")
    if kind == "function_call":
        call = {"function": {"name": item.get("name", ""), "arguments": item.get("arguments", "")}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}, 0
    if kind == "function_call_output":
        text, extra = _text(item.get("output"))
        return {"role": "tool", "content": text}, extra
    if kind == "reasoning":
        summary = "".join(str(part.get("text", "")) for part in item.get("summary") or ())
        return {"role": "assistant", "content": summary}, 0
    if "role" not in item:
        return {"role": "assistant", "content": json.dumps(item, default=str)}, 0
    text, extra = _text(item.get("content"))
    message = {key: value for key, value in item.items() if key in ("role", "name", "tool_calls")}
    message["content"] = text
    return message, extra


def _text(content: Any) -> tuple[str, int]:
    if content is None or isinstance(content, str):
        return content or "", 0
    texts: list[str] = []
    extra = 0
    for part in content:
        key = _TEXT_PARTS.get(part.get("type"))
        if key is None:
            extra += NON_TEXT_PART_TOKENS
        else:
            texts.append(str(part.get(key) or ""))
    return "".join(texts), extra

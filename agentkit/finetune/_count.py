"""Token counts of one training example, with the model's own tokenizer (``agentkit.tokens``)."""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_MAX_TOKENS", "example_tokens"]

DEFAULT_MAX_TOKENS = 65_536
"""Tokens allowed in one training example when no limit is given: the training-example context
of gpt-4o-mini-2024-07-18 and gpt-4o-2024-08-06 (OpenAI fine-tuning guide, "Token limits",
as published in 2024-2025). Pass ``max_tokens=`` for other models."""


def _strip_weights(messages: list[Any]) -> list[Any]:
    # ``weight`` is a training option, not text the model sees.
    if not any(isinstance(m, dict) and "weight" in m for m in messages):
        return messages
    return [{k: v for k, v in m.items() if k != "weight"} if isinstance(m, dict) else m for m in messages]


def example_tokens(example: dict[str, Any], model: str) -> tuple[int, int]:
    """Return ``(total tokens, trained assistant tokens)`` of a supervised or DPO example.

    The total is what the API counts for the example (messages, tool calls and tool
    definitions, via ``agentkit.tokens.count_tokens``); the assistant tokens are those of
    assistant content and tool calls with a weight other than 0.
    """
    from ..tokens import count_text, count_tokens

    if "input" in example:  # DPO: the input plus the longer of the two outputs
        given = example["input"]
        outputs = [example.get("preferred_output") or [], example.get("non_preferred_output") or []]
        longest = max(outputs, key=lambda o: count_tokens(_strip_weights(o), model=model))
        messages = list(given.get("messages") or []) + list(longest)
        tools = given.get("tools")
    else:
        messages = example["messages"]
        tools = example.get("tools")
    total = count_tokens(_strip_weights(messages), model=model, tools=tools or None)
    assistant = 0
    for m in messages:
        if m.get("role") != "assistant" or m.get("weight", 1) == 0:
            continue
        content = m.get("content")
        if isinstance(content, str):
            assistant += count_text(content, model=model)
        for tc in m.get("tool_calls") or ():
            fn = tc.get("function") or {}
            assistant += count_text(f"{fn.get('name', '')}{fn.get('arguments', '')}", model=model)
    return total, assistant

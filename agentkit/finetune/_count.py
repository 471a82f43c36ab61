"""Token counts of one training example, with the model's own tokenizer (``agentkit.tokens``)."""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_MAX_TOKENS", "example_tokens"]

DEFAULT_MAX_TOKENS = 65_536
"""Tokens allowed in one training example when no limit is given: the training-example context
of gpt-4o-mini-2024-07-18 and gpt-4o-2024-08-06 (OpenAI fine-tuning guide, "Token limits",
as published in 2024-2025). Pass ``max_tokens=`` for other models."""

# Tool definitions cost the same on every line that repeats them: (model, tools, has_system) -> tokens.
_tools_cost: list[tuple[str, Any, bool, int]] = []


def _strip_weights(messages: list[Any]) -> list[Any]:
    # ``weight`` is a training option, not text the model sees.
    if not any(isinstance(m, dict) and "weight" in m for m in messages):
        return messages
    return [{k: v for k, v in m.items() if k != "weight"} if isinstance(m, dict) else m for m in messages]


def _tools_tokens(tools: Any, has_system: bool, model: str) -> int:
    from ..tokens import count_tokens

    for known_model, known, system, cost in _tools_cost:
        if known_model == model and system == has_system and known == tools:
            return cost
    probe = [{"role": "system", "content": ""}] if has_system else []
    cost = count_tokens(probe, model=model, tools=tools) - count_tokens(probe, model=model)
    if len(_tools_cost) < 64:
        _tools_cost.append((model, tools, has_system, cost))
    return cost


def example_tokens(example: dict[str, Any], model: str) -> tuple[int, int]:
    """Return ``(total tokens, trained assistant tokens)`` of a supervised or DPO example.

    The total is what ``agentkit.tokens.count_tokens`` counts for the messages with the tools;
    the trained tokens are those of the assistant messages whose weight is not 0 (with their
    per-message overhead). ``count_tokens`` adds up per message, so the example is counted in
    three disjoint parts (other, trained, untrained messages) and each text is tokenized once;
    the tool definitions are counted once per distinct ``tools`` list.
    """
    from ..tokens import count_tokens

    if "input" in example:  # DPO: the input plus the longer of the two outputs
        given = example["input"]
        outputs = [example.get("preferred_output") or [], example.get("non_preferred_output") or []]
        longest = max(outputs, key=lambda o: count_tokens(_strip_weights(o), model=model))
        messages = _strip_weights(list(given.get("messages") or []) + list(longest))
        tools = given.get("tools")
    else:
        messages = _strip_weights(example["messages"])
        tools = example.get("tools")
    weights = [m.get("weight", 1) for m in example.get("messages") or []] if "messages" in example else None
    trained: list[Any] = []
    other: list[Any] = []
    for i, m in enumerate(messages):
        is_assistant = m.get("role") == "assistant"
        (trained if is_assistant and (weights is None or weights[i] != 0) else other).append(m)
    empty = count_tokens([], model=model)  # the reply priming, counted once per request
    trained_tokens = count_tokens(trained, model=model) - empty
    total = count_tokens(other, model=model) + trained_tokens
    if tools:
        has_system = any(m.get("role") in ("system", "developer") for m in messages)
        total += _tools_tokens(tools, has_system, model)
    return total, trained_tokens

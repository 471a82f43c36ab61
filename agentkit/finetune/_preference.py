"""Preference (DPO) pairs from two or more runs of the same input.

The DPO training format (OpenAI fine-tuning guide, "Direct preference optimization", 2024-2025;
not re-checked here) is one object per line::

    {"input": {"messages": [...], "tools": [...], "parallel_tool_calls": true},
     "preferred_output": [{"role": "assistant", ...}],
     "non_preferred_output": [{"role": "assistant", ...}]}

Each output holds one assistant message: the first reply after the shared input. That is the
model's first decision (which tool to call with which arguments, or which answer to give), the
part a preference can be learned on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..exceptions import UserError
from ._convert import canonical, chat_messages, chat_tools, scrub_message

__all__ = ["preference_pairs"]


def _messages(run: Any) -> list[dict[str, Any]]:
    if isinstance(run, list):
        return chat_messages(run)
    messages = getattr(run, "messages", None)
    if not isinstance(messages, list):
        raise UserError(
            f"A preference candidate must be a RunResult or a message list, not {type(run).__name__}."
        )
    return chat_messages(messages)


def _split(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The input (everything before the first assistant reply to the last user turn) and that reply."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    for i in range(last_user + 1, len(messages)):
        if messages[i].get("role") == "assistant":
            return messages[:i], messages[i]
    raise UserError("A preference candidate has no assistant reply after its last user message.")


def preference_pairs(
    groups: Sequence[Sequence[Any]],
    *,
    score: Callable[[Any], float] | None = None,
    agent: Any = None,
    instructions: str | None = None,
    tools: Sequence[Any] | None = None,
    scrub: bool = True,
) -> list[dict[str, Any]]:
    """Build one DPO example per group of runs that answered the same input.

    Args:
        groups: Each group holds two or more runs (``RunResult`` or message lists) of the same
            input. Without ``score`` a group is ``(preferred, non_preferred)`` in that order.
        score: Called on each run of a group (e.g. an evaluation score); the highest is
            preferred and the lowest is not. A group whose best and worst score tie is skipped.
        agent: Take ``instructions`` and ``tools`` from this agent.
        instructions: The system prompt to put first.
        tools: ``Tool`` objects or API tool params.
        scrub: Redact secrets with agentkit's shared redaction.

    Raises:
        UserError: A group has fewer than two runs, runs of one group do not share their input,
            or a run has no assistant reply.
    """
    if instructions is None and agent is not None:
        instructions = agent.instructions
    if tools is None and agent is not None:
        tools = list(agent.tools)
    system = [{"role": "system", "content": instructions}] if instructions else []
    pairs = []
    for number, group in enumerate(groups):
        if len(group) < 2:
            raise UserError(f"Preference group {number} has {len(group)} run(s); it needs at least two.")
        if score is None:
            if len(group) != 2:
                raise UserError(
                    f"Preference group {number} has {len(group)} runs; without score= pass pairs."
                )
            best, worst = group[0], group[1]
        else:
            ranked = sorted(group, key=score)
            best, worst = ranked[-1], ranked[0]
            if score(best) == score(worst):
                continue
        best_input, best_reply = _split(_messages(best))
        worst_input, worst_reply = _split(_messages(worst))
        if canonical(best_input) != canonical(worst_input):
            raise UserError(f"The runs of preference group {number} do not share the same input.")
        clean = scrub_message if scrub else dict
        pair: dict[str, Any] = {
            "input": {"messages": [clean(m) for m in system + best_input]},
            "preferred_output": [clean(best_reply)],
            "non_preferred_output": [clean(worst_reply)],
        }
        if tools:
            pair["input"]["tools"] = chat_tools(tools)
        pairs.append(pair)
    return pairs

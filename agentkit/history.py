"""How much of the history a run sends: keep it all, truncate the oldest turns, or summarise them.

Pass a policy as ``Agent(history=...)`` (``agent.clone(history=...)`` for one run)::

    from agentkit.history import Summarize, Truncate

    agent = Agent("gpt-4o-mini", history=Truncate())            # the model's window, minus a reserve
    agent = Agent("my-vllm-model", history=Truncate(max_tokens=6_000))   # an unknown model
    agent = Agent("gpt-4o-mini", history=Summarize(max_tokens=20_000))

Only what is *sent* is shortened: ``RunResult.messages`` and a session's stored thread keep every
item. Before each request of a `Truncate` or `Summarize` agent the loop counts the prompt offline
(``agentkit.tokens``: instructions, tool definitions, every item) against the budget:
``max_tokens`` when given, else ``model_info(model).context_window`` minus the output reserve
(the request's ``max_tokens`` / ``max_completion_tokens`` / ``max_output_tokens`` setting, else
``reserve_tokens``). When the model is not in the table and no ``max_tokens`` is given, nothing is
counted and nothing is dropped.

Items are dropped oldest first, whole turns at a time: a cut never falls between an assistant
message and the results of its tool calls, nor right after a Responses ``reasoning`` item. The
first user message (usually the task) stays unless ``keep_first_message=False``. If the smallest
request the policy can make still does not fit, or the API answers ``context_length_exceeded``,
the run ends with ``ContextWindowExceeded`` carrying the whole transcript.

The default, `KeepAll`, counts nothing (no cost on the hot path): a history that outgrows the
window ends the run with ``ContextWindowExceeded`` when the API refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ._config import check_number
from .exceptions import ConfigurationError

__all__ = ["DEFAULT_SUMMARY_PROMPT", "HistoryPolicy", "KeepAll", "Summarize", "Truncate"]

DEFAULT_SUMMARY_PROMPT: Final = (
    "You compress the earlier part of a conversation between a user and an AI assistant that "
    "calls tools. Write a concise summary that keeps every fact, decision, number, name, open "
    "question and tool result the assistant may still need, in the order they happened. Write "
    "only the summary."
)
"""The instructions of a summary request, unless ``Summarize(prompt=...)`` replaces them."""


@dataclass(frozen=True)
class KeepAll:
    """Send the whole history every time (the default)."""


@dataclass(frozen=True)
class Truncate:
    """Drop the oldest turns until the prompt fits the budget (OpenAI's "truncation")."""

    max_tokens: int | None = None
    """Prompt budget in tokens; ``None``: the model's context window minus the output reserve
    (required for a model the table does not know)."""
    reserve_tokens: int = 4_096
    """Tokens kept free for the reply when the request sets no output limit."""
    keep_first_message: bool = True
    """Never drop the first user message (the task, usually)."""


@dataclass(frozen=True)
class Summarize:
    """Replace the oldest turns with a summary the model writes, in what is sent.

    When the prompt does not fit, the turns that must go are summarised by one extra request (same
    model and API unless ``model`` is set; ``prompt`` as its instructions; no tools), and the
    summary is sent as a user message in their place. Within a run the summary is reused and, when
    more turns must go, extended from the previous summary plus those turns. The extra requests
    count in ``RunResult.usage`` (requests, tokens, cost) but not in ``max_turns``.
    """

    max_tokens: int | None = None
    """Prompt budget in tokens, as for `Truncate`."""
    reserve_tokens: int = 4_096
    """Tokens kept free for the reply when the request sets no output limit."""
    keep_first_message: bool = True
    """Never summarise away the first user message."""
    summary_tokens: int = 1_000
    """Room in tokens kept for the summary when choosing what to summarise."""
    prompt: str = DEFAULT_SUMMARY_PROMPT
    """Instructions of the summary request."""
    model: str | None = None
    """Model of the summary request; ``None``: the agent's model."""


HistoryPolicy = KeepAll | Truncate | Summarize
"""Any of the history policies."""


def check_policy(policy: object) -> None:
    """Raise ``ConfigurationError`` unless ``policy`` is a valid history policy."""
    if not isinstance(policy, (KeepAll, Truncate, Summarize)):
        raise ConfigurationError(
            f"history must be KeepAll(), Truncate(...) or Summarize(...) from agentkit.history, "
            f"not {policy!r}."
        )
    if isinstance(policy, KeepAll):
        return
    name = type(policy).__name__
    check_number(f"{name}(max_tokens=...)", policy.max_tokens, minimum=1, integer=True, optional=True)
    check_number(f"{name}(reserve_tokens=...)", policy.reserve_tokens, minimum=0, integer=True)
    if isinstance(policy, Summarize):
        check_number("Summarize(summary_tokens=...)", policy.summary_tokens, minimum=0, integer=True)
        if not isinstance(policy.prompt, str) or not policy.prompt.strip():
            raise ConfigurationError("Summarize(prompt=...) must be a non-empty string.")

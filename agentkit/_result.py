"""What a run returns: the output, the transcript, the usage, and the tool-call record they share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

OutputT = TypeVar("OutputT")


@dataclass
class Usage:
    """Requests and tokens, summed over the turns of a run."""

    requests: int = 0
    """Number of model requests made."""
    input_tokens: int = 0
    """Prompt tokens (``prompt_tokens`` on Chat Completions)."""
    output_tokens: int = 0
    """Completion tokens (``completion_tokens`` on Chat Completions)."""
    total_tokens: int = 0
    """Input plus output tokens as reported by the API."""
    cached_tokens: int = 0
    """Input tokens served from the prompt cache."""
    reasoning_tokens: int = 0
    """Output tokens spent on reasoning."""
    tool_calls: int = 0
    """Tool calls the run executed (calls answered "not run" are not counted)."""
    cost_usd: float | None = None
    """USD for the tokens, from the model price table; ``None`` while no price is known."""

    def add(self, other: Usage) -> None:
        """Add ``other`` into this object in place (a ``None`` cost counts as unknown, not 0)."""
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.total_tokens += other.total_tokens
        self.cached_tokens += other.cached_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.tool_calls += other.tool_calls
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd


@dataclass(frozen=True)
class ToolCall:
    """One function call the model asked for: in a reply, a recording or a repaired thread."""

    tool_call_id: str
    """The id its result is keyed by (``tool_call_id`` on Chat Completions, ``call_id`` on Responses)."""
    name: str
    """The function name as the model wrote it."""
    arguments: str
    """The raw JSON arguments string, exactly as sent."""

    def parsed_arguments(self) -> Any:
        """Return the arguments as JSON, or the raw string when they are not valid JSON."""
        try:
            return json.loads(self.arguments or "{}")
        except (ValueError, RecursionError):
            return self.arguments


@dataclass
class RunResult(Generic[OutputT]):
    """The outcome of ``Agent.run``."""

    output: OutputT
    """The final text, or the validated ``output_type`` instance."""
    messages: list[dict[str, Any]]
    """The whole conversation in the API's wire format, ready to pass back as ``messages=``."""
    new_messages: list[dict[str, Any]]
    """The messages this run added (including the user input)."""
    usage: Usage
    """Requests and tokens summed over the run."""
    run_id: str
    """The id given to this run (also in ``RunContext.run_id``)."""
    interrupted_tool_calls: list[ToolCall] = field(default_factory=list)
    """Non-idempotent tool calls closed as "outcome unknown" when the session was loaded."""
    finish_reason: str | None = "stop"
    """Why the final reply ended: ``"stop"``, or ``"length"`` for text cut off by the token limit
    (returned only with ``Agent(allow_truncated_output=True)``)."""

"""What a run returns: the output, the transcript, the usage, and the tool-call record they share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from .exceptions import ToolDecisionError

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


@dataclass(frozen=True)
class ToolDecision:
    """The caller's answer to one pending tool call; build it with the call's ``approve()``,
    ``deny(reason)`` or ``output(value)``.

    It is bound to the call's ``tool_call_id`` and its exact ``arguments``: a decision taken on
    other arguments is rejected when the run resumes (``ToolDecisionError``).
    """

    tool_call_id: str
    """The id of the call decided on."""
    arguments: str
    """The raw JSON arguments string the decision was taken on."""
    action: Literal["approve", "deny", "output"]
    """Run the tool, answer the model with a refusal, or answer it with a client's output."""
    reason: str = ""
    """Why the call was denied; the model reads it."""
    value: Any = None
    """The client-executed tool's output (serialized like a tool's return value)."""


@dataclass(frozen=True)
class PendingToolCall:
    """A tool call the run stopped at: it waits for a human's decision or a client's output."""

    tool_call_id: str
    """The id its result will be keyed by."""
    name: str
    """The tool's name."""
    arguments: str
    """The raw JSON arguments string, exactly as the model sent it."""
    kind: Literal["approval", "client"]
    """``"approval"``: a ``requires_approval`` tool; ``"client"``: a ``client_tool`` the caller runs."""

    def approve(self) -> ToolDecision:
        """Let the tool run with these arguments when the run resumes.

        Raises:
            ToolDecisionError: The call is client-executed (give its ``output`` instead).
        """
        if self.kind == "client":
            raise ToolDecisionError(
                f"{self.name!r} is a client-executed tool: it cannot run here; answer it with .output(value)."
            )
        return ToolDecision(self.tool_call_id, self.arguments, "approve")

    def deny(self, reason: str) -> ToolDecision:
        """Do not run the call; the model reads ``reason`` as the call's result."""
        return ToolDecision(self.tool_call_id, self.arguments, "deny", reason=reason)

    def output(self, value: Any) -> ToolDecision:
        """Answer a client-executed call with its output (a string, or anything JSON-serializable).

        Raises:
            ToolDecisionError: The call waits for approval, not for an output.
        """
        if self.kind != "client":
            raise ToolDecisionError(f"{self.name!r} waits for approval: use .approve() or .deny(reason).")
        return ToolDecision(self.tool_call_id, self.arguments, "output", value=value)


@dataclass
class RunResult(Generic[OutputT]):
    """The outcome of ``Agent.run``: a final answer, or a pause at tool calls that wait for a
    decision (``pending_tool_calls`` is not empty and ``output`` is ``None``)."""

    output: OutputT
    """The final text, or the validated ``output_type`` instance; ``None`` when the run paused
    (typed ``OutputT`` so that a finished run needs no ``None`` check: test
    ``pending_tool_calls`` first)."""
    messages: list[dict[str, Any]]
    """The whole conversation in the API's wire format, ready to pass back as ``messages=``."""
    new_messages: list[dict[str, Any]]
    """The messages this run added (including the user input). A resumed run starts them at the
    first result it supplied for a paused call (results are kept in the model's call order)."""
    usage: Usage
    """Requests and tokens summed over the run."""
    run_id: str
    """The id given to this run (also in ``RunContext.run_id``)."""
    interrupted_tool_calls: list[ToolCall] = field(default_factory=list)
    """Non-idempotent tool calls closed as "outcome unknown" when the session was loaded."""
    last_agent: str | None = None
    """The ``name`` of the agent that gave the final answer when the run was handed off
    (``Agent.as_handoff``); ``None`` when the agent that was run answered itself."""
    finish_reason: str | None = "stop"
    """Why the final reply ended: ``"stop"``, or ``"length"`` for text cut off by the token limit
    (returned only with ``Agent(allow_truncated_output=True)``)."""
    pending_tool_calls: list[PendingToolCall] = field(default_factory=list)
    """The calls the run paused at, in the model's order; resume with ``decisions=``."""

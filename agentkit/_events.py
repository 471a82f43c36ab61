"""The typed events ``Agent.run_stream`` yields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._result import PendingToolCall, Usage

if TYPE_CHECKING:
    from ._result import RunResult


@dataclass(frozen=True)
class TextDelta:
    """A fragment of the assistant's text as it streams in."""

    text: str
    """The new characters."""
    turn: int
    """The turn (model request) it belongs to, from 1."""


@dataclass(frozen=True)
class ToolCallStarted:
    """A tool call whose arguments are complete, about to run."""

    tool_call_id: str
    """The id the call's result is keyed by."""
    name: str
    """The tool name the model asked for."""
    arguments: dict[str, Any] | None
    """The parsed JSON arguments, or ``None`` when they are not a JSON object."""
    raw_arguments: str
    """The arguments exactly as the model sent them."""


@dataclass(frozen=True)
class ToolCallResult:
    """The result of one tool call, as the model will read it."""

    tool_call_id: str
    """The id the call's result is keyed by."""
    name: str
    """The tool name the model asked for."""
    content: str
    """The serialized (and possibly truncated) result or error text."""
    is_error: bool
    """Whether the call failed (bad arguments, unknown tool, exception, timeout, retry)."""


@dataclass(frozen=True)
class TurnFinished:
    """One model request and its tool calls are done."""

    turn: int
    """The turn number, from 1."""
    usage: Usage
    """This turn's usage."""
    total_usage: Usage
    """The run's usage so far."""


@dataclass(frozen=True)
class RunPaused:
    """The run stopped at tool calls that wait for a decision; ``FinalResult`` follows."""

    pending_tool_calls: list[PendingToolCall]
    """The waiting calls, in the model's order (also ``RunResult.pending_tool_calls``)."""


@dataclass(frozen=True)
class FinalResult:
    """The run is over; the last event of a stream."""

    result: RunResult[Any]
    """The same object ``Agent.run`` would return."""


StreamEvent = TextDelta | ToolCallStarted | ToolCallResult | TurnFinished | RunPaused | FinalResult
"""Every event ``run_stream`` yields."""

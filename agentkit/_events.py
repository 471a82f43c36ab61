"""The typed events ``Agent.run_stream`` yields."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


@dataclass(frozen=True)
class SubAgentEvent:
    """An event of a sub-agent's run (``Agent.as_tool``), as it happens inside a tool call."""

    tool_call_id: str
    """The id of the parent's tool call that runs the sub-agent."""
    agent: str
    """The agent tool's name."""
    event: StreamEvent
    """The sub-run's own event (its ``FinalResult`` too; a ``SubAgentEvent`` when nested)."""


StreamEvent = (
    TextDelta | ToolCallStarted | ToolCallResult | TurnFinished | RunPaused | FinalResult | SubAgentEvent
)
"""Every event ``run_stream`` yields."""

_sink: ContextVar[Callable[[StreamEvent], None] | None] = ContextVar("agentkit_event_sink", default=None)


@contextmanager
def event_sink(sink: Callable[[StreamEvent], None] | None) -> Iterator[None]:
    """Route the events of sub-agent runs started in this context to ``sink`` (``None``: nowhere).

    The loop sets it around a turn's tool calls: the stream's queue when streaming, else ``None``,
    so a sub-agent never writes into the stream of an outer run it is not part of.
    """
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def current_sink() -> Callable[[StreamEvent], None] | None:
    """The sink set by the innermost running loop, if it streams."""
    return _sink.get()


_emitting: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()


def mark_emitting(function: Callable[..., Any]) -> None:
    """Mark a tool function that sends events into the current sink (a sub-agent)."""
    _emitting.add(function)


def emits_events(function: Callable[..., Any]) -> bool:
    """Whether ``function`` was marked by ``mark_emitting``."""
    return function in _emitting

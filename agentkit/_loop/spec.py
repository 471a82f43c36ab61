"""``RunSpec``: everything the loop needs from an agent, as one immutable value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._guardrail import Guardrail
from .._hooks import HookSet, StepRunner
from .._limits import RateLimiter, UsageLimits
from .._tool import Tool
from .._wire import ModelAPI, Request
from ..history import HistoryPolicy, KeepAll
from .dispatch import Dispatcher

_KEEP_ALL = KeepAll()


@dataclass(frozen=True)
class RunSpec:
    """What ``Agent`` hands the loop; built once when the agent is constructed."""

    api: ModelAPI
    """The wire format (Chat Completions or Responses)."""
    request: Request
    """Model, instructions, tool schemas and settings sent with every request."""
    request_after_tools: Request
    """The request sent once a turn made tool calls: ``tool_choice`` relaxed to ``"auto"`` when
    the agent forces a tool and ``reset_tool_choice`` is on (else the same as ``request``)."""
    dispatcher: Dispatcher
    """Runs the tool calls of a turn."""
    output_type: type[Any] | None
    """A pydantic model the final answer must fit, or ``None`` for plain text."""
    max_turns: int
    """Model requests allowed in one run."""
    run_timeout: float | None
    """Seconds for the whole run, or ``None`` for no deadline."""
    max_tool_retries: int
    """Turns in which one tool may fail (unless the tool sets its own ``max_retries``)."""
    max_failed_turns: int
    """Turns with at least one failed call allowed per run."""
    raise_tool_errors: bool
    """Re-raise a tool's exception as ``ToolExecutionError``."""
    allow_truncated_output: bool = False
    """Return text cut off by the token limit instead of raising ``OutputTruncatedError``."""
    usage_limits: UsageLimits | None = None
    """Run budgets."""
    rate_limiter: RateLimiter | None = None
    """Requests/tokens per minute shared with other runs."""
    gated: frozenset[str] = frozenset()
    """Names of the tools whose calls may pause the run (approval or client-executed)."""
    history: HistoryPolicy = _KEEP_ALL
    """What part of the history each request sends (``agentkit.history``)."""
    toggled: tuple[Tool[..., Any], ...] = ()
    """The tools with an ``enabled`` predicate, evaluated at the start of each run."""
    hooks: HookSet = field(default_factory=HookSet)
    """Callbacks around the run and its model requests (tool-call hooks are the dispatcher's)."""
    step_runner: StepRunner | None = None
    """Wraps each model request as a step (the dispatcher wraps tool calls)."""
    input_guardrails: tuple[Guardrail, ...] = ()
    """Checks on the run's new input, raced against the first model request."""
    output_guardrails: tuple[Guardrail, ...] = ()
    """Checks on the final answer."""
    name: str = "agent"
    """The agent's name (for traces)."""
    needs_deps: tuple[str, ...] = ()
    """Tools whose ``RunContext[Deps]`` needs ``deps=`` (a run without them is refused)."""

"""``RunState``: everything one run mutates; never shared between runs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._context import RunContext
from .._guardrail import Guardrail
from .._handoff import Handoff
from .._result import RunResult, ToolCall, ToolDecision, Usage
from ..exceptions import ConfigurationError
from .cost import Pricer
from .journal import Journal
from .pending import Waiting
from .resume import StartingHistory
from .spec import RunSpec
from .window import Window

NOT_RUN_LIMIT = "Error: not run: the run reached its usage limit."


@dataclass
class RunState:
    """Everything one run mutates; never shared between runs."""

    spec: RunSpec
    journal: Journal
    start: StartingHistory
    run_id: str
    history: list[dict[str, Any]] = field(init=False)
    new_start: int = field(init=False)
    usage: Usage = field(default_factory=Usage)
    failures: dict[str, int] = field(default_factory=dict)
    failed_turns: int = 0
    turn: int = 0
    output_retried: bool = False
    tools_called: bool = False
    """A turn made tool calls: later requests use ``spec.request_after_tools``."""
    calls_seen: int = field(init=False)
    """Tool calls in the thread so far: the next call's ordinal (for idempotency keys)."""
    decisions: list[tuple[Waiting, ToolDecision]] = field(default_factory=list)
    """The decisions this run resumes with, matched to the calls the thread waits at."""
    paused: list[Waiting] = field(default_factory=list)
    """The calls this run stopped at."""
    pricer: Pricer = field(default_factory=Pricer)
    """Prices each reply (one model-table look-up per model per run)."""
    window: Window = field(init=False)
    """What each request sends of ``history`` (the agent's history policy)."""
    context: RunContext[Any] = field(init=False)
    """The run's context (hooks, guardrails, tools)."""
    deps: Any = None
    """The run's ``deps=``."""
    verdict: asyncio.Future[tuple[Guardrail, str] | None] | None = None
    """The input guardrails' verdict, being computed alongside the first request."""
    handoff: Handoff | None = None
    """A transfer made in the last turn (``Agent.as_handoff``), not yet acted on."""
    agent_name: str | None = None
    """The agent the run was handed off to, if any."""

    def __post_init__(self) -> None:
        self.window = Window(self.spec.history, self.spec.api, self.pricer)
        self.history = self.start.items
        # The results this run supplies for a paused turn's calls go back in call order, so
        # new_messages starts at the first of them.
        self.new_start = min(self.start.holes, default=len(self.history))
        self.calls_seen = self.start.calls
        self.context = RunContext(deps=self.deps, run_id=self.run_id, usage=self.usage)

    def transcript(self) -> dict[str, Any]:
        """The keyword arguments every ``RunError`` carries."""
        return {"messages": list(self.history), "usage": self.usage}

    async def extend(self, items: Sequence[dict[str, Any]]) -> None:
        """Append ``items`` to the history and the journal."""
        self.history.extend(items)
        await self.journal.append(items)

    @property
    def scope(self) -> str:
        """What idempotency keys are scoped by: the thread, or this run without a session."""
        return self.start.thread_id or self.run_id

    def result(self, output: Any, finish_reason: str | None) -> RunResult[Any]:
        return RunResult(
            output=output,
            messages=self.history,
            new_messages=self.history[self.new_start :],
            usage=self.usage,
            run_id=self.run_id,
            interrupted_tool_calls=self.start.interrupted,
            last_agent=self.agent_name,
            finish_reason=finish_reason,
            pending_tool_calls=[w.call for w in self.paused],
        )

    def hand_off(self) -> RunSpec:
        """Continue this run with the agent of ``self.handoff``; return its spec.

        Raises:
            ConfigurationError: The target agent uses the other wire format (``api=``).
        """
        handoff, self.handoff = self.handoff, None
        assert handoff is not None
        if type(handoff.spec.api) is not type(self.spec.api):
            raise ConfigurationError(
                f"Cannot hand off to {handoff.agent_name!r}: it uses another API (chat vs responses) "
                "than the agent whose history it would continue."
            )
        self.spec, self.agent_name = handoff.spec, handoff.agent_name
        self.tools_called = self.output_retried = False
        if handoff.history is not None:
            self.history = list(handoff.history(list(self.history)))
            self.new_start = 0  # the history is now the target's conversation
        # The target's own history policy, counted afresh (the filter may have shortened it).
        self.window = Window(handoff.spec.history, handoff.spec.api, self.pricer)
        return handoff.spec

    async def close_calls(self, calls: Sequence[ToolCall], text: str) -> None:
        """Give each of ``calls`` the result ``text`` (they were not run), keeping I1."""
        await self.extend([self.spec.api.tool_result_item(c, text) for c in calls])

"""The agent loop: request, run every tool call, append results in order, repeat.

1. Send instructions + history + tool schemas (+ model settings).
2. If the reply contains tool calls (whatever its ``finish_reason``), run all of them
   concurrently; text that came with them stays in the history.
3. Append the assistant message, then exactly one result per call, in the model's call order.
4. Repeat until a reply has no tool calls: that is the final answer.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._context import RunContext
from .._events import FinalResult, StreamEvent, TextDelta, ToolCallResult, ToolCallStarted, TurnFinished
from .._result import RunResult, ToolCall, Usage
from .._session import Session
from .._wire import ModelTurn
from ..exceptions import (
    ConfigurationError,
    MaxTurnsExceeded,
    ModelBehaviorError,
    OutputValidationError,
    RunTimeout,
)
from .budget import check_failures
from .journal import Journal, NullJournal, SessionJournal
from .output import OutputMismatch, parse_output, retry_prompt
from .resume import StartingHistory, from_messages, from_session
from .spec import RunSpec
from .turn import Deadline, model_turn

if TYPE_CHECKING:
    from openai import AsyncOpenAI


@dataclass
class _State:
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
    calls_seen: int = field(init=False)
    """Tool calls in the thread so far: the next call's ordinal (for idempotency keys)."""

    def __post_init__(self) -> None:
        self.history = self.start.items
        self.new_start = len(self.history)
        self.calls_seen = self.start.calls

    def transcript(self) -> dict[str, Any]:
        """The keyword arguments every ``RunError`` carries."""
        return {"messages": list(self.history), "usage": self.usage}

    async def extend(self, items: Sequence[dict[str, Any]]) -> None:
        """Append ``items`` to the history and the journal."""
        self.history.extend(items)
        await self.journal.append(items)

    def result(self, output: Any) -> RunResult[Any]:
        return RunResult(
            output=output,
            messages=self.history,
            new_messages=self.history[self.new_start :],
            usage=self.usage,
            run_id=self.run_id,
            interrupted_tool_calls=self.start.interrupted,
        )


async def run_loop(
    spec: RunSpec,
    client: AsyncOpenAI,
    user_input: str | list[dict[str, Any]] | None,
    *,
    messages: list[dict[str, Any]] | None,
    deps: Any,
    session: Session | None,
    stream: bool,
) -> AsyncGenerator[StreamEvent, None]:
    """Run the loop, yielding events (only the final one unless ``stream``)."""
    deadline = Deadline.start(spec.run_timeout)
    state = await _start(spec, user_input, messages, deps, session)
    try:
        async with aclosing(_turns(spec, client, state, deps, deadline, stream)) as events:
            async for event in events:
                yield event
    except asyncio.TimeoutError as exc:
        if not deadline.passed():
            raise
        raise RunTimeout(
            f"The run passed its deadline of {spec.run_timeout:g} s.", **state.transcript()
        ) from exc
    except ModelBehaviorError as exc:
        raise ModelBehaviorError(str(exc), **state.transcript()) from exc


async def _turns(
    spec: RunSpec, client: AsyncOpenAI, state: _State, deps: Any, deadline: Deadline, stream: bool
) -> AsyncGenerator[StreamEvent, None]:
    """Request, run tools, repeat, until a final answer (the last event)."""
    context: RunContext[Any] = RunContext(deps=deps, run_id=state.run_id, usage=state.usage)
    while True:
        reply: ModelTurn | None = None
        async with aclosing(_request(spec, client, state, deadline, stream)) as parts:
            async for part in parts:
                if isinstance(part, ModelTurn):
                    reply = part
                else:
                    yield part
        assert reply is not None
        if reply.tool_calls:
            async with aclosing(_run_tools(spec, state, context, reply, deadline, stream)) as events:
                async for event in events:
                    yield event
            continue
        output = await _final_output(spec, state, reply)
        if output is _RETRY:
            continue
        if stream:
            yield TurnFinished(state.turn, reply.usage, _copy(state.usage))
        yield FinalResult(state.result(output))
        return


async def _start(
    spec: RunSpec,
    user_input: str | list[dict[str, Any]] | None,
    messages: list[dict[str, Any]] | None,
    deps: Any,
    session: Session | None,
) -> _State:
    """Load the history, then append and journal the new input."""
    run_id = uuid.uuid4().hex
    journal: Journal
    if session is not None:
        if messages is not None:
            raise ConfigurationError("Pass either session= or messages=, not both.")
        start = await from_session(spec, session, deps, run_id)
        journal = SessionJournal(session, spec.api)
    else:
        start = from_messages(spec, messages)
        journal = NullJournal()
    state = _State(spec, journal, start, run_id)
    if isinstance(user_input, str):
        await state.extend([spec.api.user_item(user_input)])
    elif user_input:
        await state.extend(list(user_input))
    return state


async def _request(
    spec: RunSpec, client: AsyncOpenAI, state: _State, deadline: Deadline, stream: bool
) -> AsyncGenerator[TextDelta | ModelTurn, None]:
    """One model turn: check the turn limit, request, record usage and the reply's items."""
    if state.turn >= spec.max_turns:
        raise MaxTurnsExceeded(
            f"The run did not reach a final answer within max_turns={spec.max_turns}.", **state.transcript()
        )
    state.turn += 1
    turn = model_turn(spec.api, client, spec.request, state.history, deadline, stream=stream)
    async with aclosing(turn) as parts:
        async for part in parts:
            if isinstance(part, str):
                yield TextDelta(part, state.turn)
                continue
            state.usage.add(part.usage)
            await state.extend(part.items)
            yield part


async def _run_tools(
    spec: RunSpec,
    state: _State,
    context: RunContext[Any],
    reply: ModelTurn,
    deadline: Deadline,
    stream: bool,
) -> AsyncGenerator[StreamEvent, None]:
    """Run one turn's tool calls, append their results in call order, apply the budgets."""
    calls = reply.tool_calls
    if stream:
        for call in calls:
            yield ToolCallStarted(call.tool_call_id, call.name, _as_object(call), call.arguments)
    outcomes = await spec.dispatcher.run(
        calls,
        context,
        state.failures,
        state.journal.record,
        ordinals=range(state.calls_seen, state.calls_seen + len(calls)),
        timeout=deadline.remaining(),
    )
    state.calls_seen += len(calls)
    state.history.extend(spec.api.tool_result_item(o.call, o.content) for o in outcomes)
    if stream:
        for o in outcomes:
            yield ToolCallResult(o.call.tool_call_id, o.call.name, o.content, o.is_error)
    if any(o.deadline_passed for o in outcomes):
        raise RunTimeout(f"The run passed its deadline of {spec.run_timeout:g} s.", **state.transcript())
    state.failed_turns = check_failures(spec, state.failures, state.failed_turns, outcomes, state.transcript)
    if stream:
        yield TurnFinished(state.turn, reply.usage, _copy(state.usage))


_RETRY: Any = object()
"""Returned by ``_final_output`` when the model was asked to answer again."""


async def _final_output(spec: RunSpec, state: _State, reply: ModelTurn) -> Any:
    """Validate the final answer; on the first mismatch ask once more (``_RETRY``).

    Raises:
        OutputValidationError: The second answer does not fit either.
    """
    try:
        return parse_output(spec.output_type, reply)
    except OutputMismatch as exc:
        if state.output_retried:
            name = spec.output_type.__name__ if spec.output_type is not None else "str"
            raise OutputValidationError(
                f"The final answer does not fit {name}: {exc}", **state.transcript()
            ) from exc
        state.output_retried = True
        await state.extend([spec.api.user_item(retry_prompt(exc))])
        return _RETRY


def _as_object(call: ToolCall) -> dict[str, Any] | None:
    value = call.parsed_arguments()
    return value if isinstance(value, dict) else None


def _copy(usage: Usage) -> Usage:
    return Usage(**vars(usage))

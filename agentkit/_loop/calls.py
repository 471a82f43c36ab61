"""A turn's tool calls: run them (pausing at those that wait for a decision), and answer the
calls a paused thread waits at when the run resumes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from .._context import RunContext
from .._events import StreamEvent, ToolCallResult, ToolCallStarted, TurnFinished, emits_events, event_sink
from .._result import ToolCall, Usage
from .._wire import ModelTurn
from ..exceptions import RunTimeout, UsageLimitExceeded
from .budget import check_failures
from .dispatch import CallOutcome
from .pending import Waiting, decided_content, split_calls
from .spec import RunSpec
from .state import NOT_RUN_LIMIT, RunState
from .turn import Deadline


async def run_tools(
    spec: RunSpec,
    state: RunState,
    context: RunContext[Any],
    reply: ModelTurn,
    deadline: Deadline,
    stream: bool,
) -> AsyncGenerator[StreamEvent, None]:
    """Run one turn's tool calls, append their results in call order, apply the budgets.

    Calls that wait for a decision are left without a result (``state.paused``); the others run.
    """
    state.tools_called = True
    await _check_tool_call_budget(spec, state, reply.tool_calls)
    first = state.calls_seen
    state.calls_seen += len(reply.tool_calls)
    positions, state.paused = split_calls(spec.dispatcher, spec.gated, reply.tool_calls, first, context)
    calls = [reply.tool_calls[p] for p in positions]
    for started in _started(calls, stream):
        yield started
    outcomes: list[CallOutcome] = []
    ordinals = [first + p for p in positions]
    async with aclosing(
        _dispatch(spec, state, context, calls, ordinals, deadline, stream, outcomes)
    ) as events:
        async for event in events:
            yield event
    state.history.extend(spec.api.tool_result_item(o.call, o.content) for o in outcomes)
    state.handoff = next((o.handoff for o in outcomes if o.handoff is not None), None)
    async with aclosing(_after_tools(spec, state, outcomes, stream)) as events:
        async for event in events:
            yield event
    if state.paused:
        await state.journal.pause(state.paused)
    elif stream:
        yield TurnFinished(state.turn, reply.usage, _copy(state.usage))


async def _check_tool_call_budget(spec: RunSpec, state: RunState, calls: list[ToolCall]) -> None:
    """A turn whose calls would pass the tool-call limit runs none of them."""
    limit = spec.usage_limits.tool_calls if spec.usage_limits is not None else None
    if limit is None or state.usage.tool_calls + len(calls) <= limit:
        return
    await state.close_calls(calls, NOT_RUN_LIMIT)
    raise UsageLimitExceeded(
        f"This turn's {len(calls)} tool calls would pass the run's limit of {limit} "
        f"({state.usage.tool_calls} already run); none of them was run.",
        limit="tool_calls",
        **state.transcript(),
    )


async def _after_tools(
    spec: RunSpec, state: RunState, outcomes: list[CallOutcome], stream: bool
) -> AsyncGenerator[StreamEvent, None]:
    """Report the outcomes, then stop the run at the deadline or when a budget is spent."""
    if stream:
        for o in outcomes:
            yield ToolCallResult(o.call.tool_call_id, o.call.name, o.content, o.is_error)
    if any(o.deadline_passed for o in outcomes):
        raise RunTimeout(f"The run passed its deadline of {spec.run_timeout:g} s.", **state.transcript())
    state.failed_turns = check_failures(spec, state.failures, state.failed_turns, outcomes, state.transcript)


async def resume_calls(
    spec: RunSpec, state: RunState, context: RunContext[Any], deadline: Deadline, stream: bool
) -> AsyncGenerator[StreamEvent, None]:
    """Answer the calls the thread waits at: run the approved ones, answer the others from
    their decision, and put every result where it belongs in the history."""
    await state.journal.decided([w.ordinal for w, _ in state.decisions])
    approved = [(w, d) for w, d in state.decisions if d.action == "approve"]
    calls = [_as_call(w) for w, _ in approved]
    for started in _started(calls, stream):
        yield started
    ran: list[CallOutcome] = []
    ordinals = [w.ordinal for w, _ in approved]
    async with aclosing(_dispatch(spec, state, context, calls, ordinals, deadline, stream, ran)) as events:
        async for event in events:
            yield event
    by_ordinal = {w.ordinal: o for (w, _), o in zip(approved, ran, strict=True)}
    outcomes: list[CallOutcome] = []
    for (w, decision), hole in zip(state.decisions, state.start.holes, strict=True):
        outcome = by_ordinal.get(w.ordinal)
        if outcome is None:
            outcome = CallOutcome(
                _as_call(w), decided_content(decision, spec.dispatcher.max_output_chars), False
            )
            await state.journal.record(outcome)
        state.history[hole] = spec.api.tool_result_item(outcome.call, outcome.content)
        outcomes.append(outcome)
    async with aclosing(_after_tools(spec, state, outcomes, stream)) as events:
        async for event in events:
            yield event


def _started(calls: list[ToolCall], stream: bool) -> list[ToolCallStarted]:
    if not stream:
        return []
    return [ToolCallStarted(c.tool_call_id, c.name, _as_object(c), c.arguments) for c in calls]


async def _dispatch(
    spec: RunSpec,
    state: RunState,
    context: RunContext[Any],
    calls: list[ToolCall],
    ordinals: list[int],
    deadline: Deadline,
    stream: bool,
    outcomes: list[CallOutcome],
) -> AsyncGenerator[StreamEvent, None]:
    """Run ``calls`` and put their outcomes into ``outcomes``; while they run, yield the events
    that sub-agents (``Agent.as_tool``) send when the run streams."""
    state.usage.tool_calls += len(calls)
    dispatch = spec.dispatcher.run(
        calls,
        context,
        state.failures,
        state.journal.record,
        ordinals=ordinals,
        scope=state.scope,
        timeout=deadline.remaining(),
    )
    if not stream or not _calls_sub_agents(spec, calls):
        with event_sink(None):  # a sub-agent of this run must not write into an outer stream
            outcomes.extend(await dispatch)
        return
    queue: asyncio.Queue[StreamEvent] = asyncio.Queue()
    with event_sink(queue.put_nowait):
        task = asyncio.ensure_future(dispatch)  # the task copies the context: tools see the sink
    getter: asyncio.Future[StreamEvent] | None = None
    try:
        while not task.done():
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield getter.result()
        while not queue.empty():
            yield queue.get_nowait()
    finally:
        # The stream was closed or cancelled (or the tools are done): stop whatever still runs.
        for pending in (task, getter):
            if pending is not None and not pending.done():
                pending.cancel()
        await asyncio.gather(task, *([getter] if getter is not None else []), return_exceptions=True)
    outcomes.extend(task.result())


def _calls_sub_agents(spec: RunSpec, calls: list[ToolCall]) -> bool:
    """Whether a call goes to a tool that streams events (``Agent.as_tool``); only then do the
    calls run beside an event queue (a task and a wait per turn)."""
    tools = spec.dispatcher.tools
    return any((t := tools.get(c.name)) is not None and emits_events(t.function) for c in calls)


def _as_call(waiting: Waiting) -> ToolCall:
    c = waiting.call
    return ToolCall(c.tool_call_id, c.name, c.arguments)


def _as_object(call: ToolCall) -> dict[str, Any] | None:
    value = call.parsed_arguments()
    return value if isinstance(value, dict) else None


def _copy(usage: Usage) -> Usage:
    return Usage(**vars(usage))

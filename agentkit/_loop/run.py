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
from typing import TYPE_CHECKING, Any

from .._events import FinalResult, RunPaused, StreamEvent, TextDelta, TurnFinished
from .._hooks import call_hooks
from .._redact import redact
from .._result import ToolDecision, Usage
from .._session import Session
from .._wire import ModelTurn, Request
from ..exceptions import (
    AgentkitError,
    ConfigurationError,
    MaxTurnsExceeded,
    OutputValidationError,
    RunError,
    RunTimeout,
    UsageLimitExceeded,
)
from .calls import resume_calls, run_tools
from .guard import check_output, guard_first, start_input_checks
from .journal import Journal, NullJournal, SessionJournal
from .output import OutputMismatch, parse_output, retry_prompt
from .pending import match_decisions
from .per_run import for_run
from .reply import reply_problem
from .resume import from_messages, from_session
from .spec import RunSpec
from .state import NOT_RUN_LIMIT, RunState
from .turn import Deadline, after_request, before_request, model_turn, step_for
from .window import context_overflow

if TYPE_CHECKING:
    from openai import AsyncOpenAI


async def run_loop(
    spec: RunSpec,
    client: AsyncOpenAI,
    user_input: str | list[dict[str, Any]] | None,
    *,
    messages: list[dict[str, Any]] | None,
    deps: Any,
    session: Session | None,
    stream: bool,
    decisions: Sequence[ToolDecision] | None = None,
) -> AsyncGenerator[StreamEvent, None]:
    """Run the loop, yielding events (only the final one unless ``stream``)."""
    deadline = Deadline.start(spec.run_timeout)
    state = await _start(spec, user_input, messages, deps, session, decisions)
    state.verdict = start_input_checks(state, client, user_input)
    after_run = state.spec.hooks.after_run
    ended = False
    try:
        async with aclosing(_checked(state.spec, client, state, deadline, stream)) as events:
            async for event in events:
                if isinstance(event, FinalResult) and after_run:
                    ended = True
                    await call_hooks(after_run, state.context, event.result, None)
                yield event
    except Exception as exc:
        if after_run and not ended:
            await call_hooks(after_run, state.context, None, exc)
        raise
    finally:
        if state.verdict is not None and not state.verdict.done():
            state.verdict.cancel()
            await asyncio.gather(state.verdict, return_exceptions=True)


async def _checked(
    spec: RunSpec, client: AsyncOpenAI, state: RunState, deadline: Deadline, stream: bool
) -> AsyncGenerator[StreamEvent, None]:
    """Run the turns; give every error the transcript (and an unexpected one a ``RunError``)."""
    try:
        async with aclosing(_turns(spec, client, state, deadline, stream)) as events:
            async for event in events:
                yield event
    except asyncio.TimeoutError as exc:
        if not deadline.passed():
            raise _unexpected(exc, state) from exc
        raise RunTimeout(
            f"The run passed its deadline of {spec.run_timeout:g} s.", **state.transcript()
        ) from exc
    except Exception as exc:
        if (overflow := context_overflow(exc, state.transcript)) is not None:
            raise overflow from exc
        if _keeps_its_class(exc):
            # Agentkit's own errors and the SDK's keep their class (users catch
            # ``openai.RateLimitError``); either way the transcript so far rides along.
            exc.messages, exc.usage = list(state.history), state.usage  # type: ignore[attr-defined]
            raise
        raise _unexpected(exc, state) from exc


def _keeps_its_class(exc: Exception) -> bool:
    from openai import OpenAIError

    return isinstance(exc, (AgentkitError, OpenAIError))


def _unexpected(exc: BaseException, state: RunState) -> RunError:
    """Anything else that ends a run (a session store's driver error, a bug) becomes a ``RunError``."""
    return RunError(f"The run failed: {type(exc).__name__}: {redact(str(exc))}", **state.transcript())


async def _turns(
    spec: RunSpec, client: AsyncOpenAI, state: RunState, deadline: Deadline, stream: bool
) -> AsyncGenerator[StreamEvent, None]:
    """Request, run tools, repeat, until a final answer or a pause (the last event)."""
    context = state.context
    await call_hooks(spec.hooks.before_run, context)
    if state.decisions:
        async with aclosing(resume_calls(spec, state, context, deadline, stream)) as events:
            async for event in events:
                yield event
    while True:
        reply: ModelTurn | None = None
        async with aclosing(_request(spec, client, state, deadline, stream)) as parts:
            async for part in parts:
                if isinstance(part, ModelTurn):
                    reply = part
                else:
                    yield part
        assert reply is not None
        async with aclosing(_after_reply(spec, client, state, reply, deadline, stream)) as events:
            async for event in events:
                yield event
                if isinstance(event, FinalResult):
                    return
        if state.handoff is not None:
            spec = state.hand_off()


async def _after_reply(
    spec: RunSpec,
    client: AsyncOpenAI,
    state: RunState,
    reply: ModelTurn,
    deadline: Deadline,
    stream: bool,
) -> AsyncGenerator[StreamEvent, None]:
    """Run the reply's tool calls (ending with a pause if some wait), or finish with its answer."""
    if reply.tool_calls:
        async with aclosing(run_tools(spec, state, state.context, reply, deadline, stream)) as events:
            async for event in events:
                yield event
        if state.paused:
            if stream:
                yield RunPaused([w.call for w in state.paused])
            yield FinalResult(state.result(None, reply.finish_reason or "tool_calls"))
        return
    output = await _final_output(spec, state, reply)
    if output is not _RETRY:
        await check_output(state, client, reply.text or "")
        if stream:
            yield TurnFinished(state.turn, reply.usage, _copy(state.usage))
        yield FinalResult(state.result(output, reply.finish_reason or "stop"))


async def _start(
    spec: RunSpec,
    user_input: str | list[dict[str, Any]] | None,
    messages: list[dict[str, Any]] | None,
    deps: Any,
    session: Session | None,
    decisions: Sequence[ToolDecision] | None,
) -> RunState:
    """Load the history, match the decisions to the calls it waits at, then append and journal
    the new input.

    Raises:
        ToolDecisionError: ``decisions`` do not fit the calls the thread waits at.
    """
    run_id = _new_run_id(spec)
    journal: Journal
    if session is not None:
        if messages is not None:
            raise ConfigurationError("Pass either session= or messages=, not both.")
        start = await from_session(spec, session, deps, run_id)
        journal = SessionJournal(session, spec.api)
    else:
        decided = {d.tool_call_id for d in decisions or ()}
        start = await from_messages(spec, messages, deps, run_id, decided)
        journal = NullJournal()
    state = RunState(spec, journal, start, run_id, deps=deps)
    state.spec = for_run(spec, state.context)
    if start.waiting or decisions:
        state.decisions = match_decisions(start.waiting, decisions or ())
    if isinstance(user_input, str):
        await state.extend([spec.api.user_item(user_input)])
    elif user_input:
        await state.extend(list(user_input))
    return state


def _new_run_id(spec: RunSpec) -> str:
    """A new run's id, or the one its step runner supplies: a durable engine replays a run under
    its original id, so its idempotency keys stay the same."""
    supplied = getattr(spec.step_runner, "run_id", None)
    return str(supplied()) if callable(supplied) else uuid.uuid4().hex


async def _request(
    spec: RunSpec, client: AsyncOpenAI, state: RunState, deadline: Deadline, stream: bool
) -> AsyncGenerator[TextDelta | ModelTurn, None]:
    """One model turn: check the turn limit, request, record usage and the reply's items."""
    if state.turn >= spec.max_turns:
        raise MaxTurnsExceeded(
            f"The run did not reach a final answer within max_turns={spec.max_turns}.", **state.transcript()
        )
    state.turn += 1
    request = spec.request_after_tools if state.tools_called else spec.request
    sent = await state.window.fit(
        client, request, state.history, deadline=deadline, usage=state.usage, transcript=state.transcript
    )
    estimate = await _rate_limit(spec, request, sent)
    seen = await before_request(spec, state, request, sent)
    turn = model_turn(spec.api, client, request, sent, deadline, stream=stream, step=step_for(spec, state))
    if state.verdict is not None and state.turn == 1:
        turn = guard_first(turn, state.verdict, state)
    async with aclosing(turn) as parts:
        async for part in parts:
            if isinstance(part, str):
                yield TextDelta(part, state.turn)
                continue
            state.pricer.price(request.model, part.usage)
            state.usage.add(part.usage)
            if spec.rate_limiter is not None:
                spec.rate_limiter.settle(request.model, estimate, part.usage.total_tokens)
            await state.extend(part.items)
            await _check_reply(spec, state, part)
            await after_request(spec, state, seen, part)
            yield part


async def _rate_limit(spec: RunSpec, request: Request, history: list[dict[str, Any]]) -> int:
    """Wait for the shared rate limiter; return the token estimate it reserved."""
    if spec.rate_limiter is None:
        return 0
    # About 4 characters a token; corrected with the billed usage after the reply.
    estimate = sum(len(str(item.get("content") or item.get("output") or "")) for item in history) // 4 + 1
    await spec.rate_limiter.acquire(request.model, estimate)
    return estimate


async def _check_reply(spec: RunSpec, state: RunState, reply: ModelTurn) -> None:
    """Refuse a reply that is no real answer, then apply the token and cost budgets."""
    problem = reply_problem(reply, spec.allow_truncated_output)
    if problem is not None:
        error, message, not_run = problem
        await state.close_calls(reply.tool_calls, not_run)
        raise error(message, **state.transcript())
    if spec.usage_limits is not None and (over := spec.usage_limits.exceeded(state.usage)) is not None:
        await state.close_calls(reply.tool_calls, NOT_RUN_LIMIT)
        raise UsageLimitExceeded(over[1], limit=over[0], **state.transcript())


_RETRY: Any = object()
"""Returned by ``_final_output`` when the model was asked to answer again."""


async def _final_output(spec: RunSpec, state: RunState, reply: ModelTurn) -> Any:
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


def _copy(usage: Usage) -> Usage:
    return Usage(**vars(usage))

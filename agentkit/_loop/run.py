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
from .._redact import redact
from .._result import RunResult, ToolCall, Usage
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
from .budget import check_failures
from .journal import Journal, NullJournal, SessionJournal
from .output import OutputMismatch, parse_output, retry_prompt
from .reply import reply_problem
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
    tools_called: bool = False
    """A turn made tool calls: later requests use ``spec.request_after_tools``."""
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
            finish_reason=finish_reason,
        )

    async def close_calls(self, calls: Sequence[ToolCall], text: str) -> None:
        """Give each of ``calls`` the result ``text`` (they were not run), keeping I1."""
        await self.extend([self.spec.api.tool_result_item(c, text) for c in calls])


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
            raise _unexpected(exc, state) from exc
        raise RunTimeout(
            f"The run passed its deadline of {spec.run_timeout:g} s.", **state.transcript()
        ) from exc
    except Exception as exc:
        if _keeps_its_class(exc):
            # Agentkit's own errors and the SDK's keep their class (users catch
            # ``openai.RateLimitError``); either way the transcript so far rides along.
            exc.messages, exc.usage = list(state.history), state.usage  # type: ignore[attr-defined]
            raise
        raise _unexpected(exc, state) from exc


def _keeps_its_class(exc: Exception) -> bool:
    from openai import OpenAIError

    return isinstance(exc, (AgentkitError, OpenAIError))


def _unexpected(exc: BaseException, state: _State) -> RunError:
    """Anything else that ends a run (a session store's driver error, a bug) becomes a ``RunError``."""
    return RunError(f"The run failed: {type(exc).__name__}: {redact(str(exc))}", **state.transcript())


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
        yield FinalResult(state.result(output, reply.finish_reason or "stop"))
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
        start = await from_messages(spec, messages, deps, run_id)
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
    request = spec.request_after_tools if state.tools_called else spec.request
    estimate = await _rate_limit(spec, request, state.history)
    turn = model_turn(spec.api, client, request, state.history, deadline, stream=stream)
    async with aclosing(turn) as parts:
        async for part in parts:
            if isinstance(part, str):
                yield TextDelta(part, state.turn)
                continue
            state.usage.add(part.usage)
            if spec.rate_limiter is not None:
                spec.rate_limiter.settle(request.model, estimate, part.usage.total_tokens)
            await state.extend(part.items)
            await _check_reply(spec, state, part)
            yield part


async def _rate_limit(spec: RunSpec, request: Request, history: list[dict[str, Any]]) -> int:
    """Wait for the shared rate limiter; return the token estimate it reserved."""
    if spec.rate_limiter is None:
        return 0
    # About 4 characters a token; corrected with the billed usage after the reply.
    estimate = sum(len(str(item.get("content") or item.get("output") or "")) for item in history) // 4 + 1
    await spec.rate_limiter.acquire(request.model, estimate)
    return estimate


async def _check_reply(spec: RunSpec, state: _State, reply: ModelTurn) -> None:
    """Refuse a reply that is no real answer, then apply the token and cost budgets."""
    problem = reply_problem(reply, spec.allow_truncated_output)
    if problem is not None:
        error, message, not_run = problem
        await state.close_calls(reply.tool_calls, not_run)
        raise error(message, **state.transcript())
    if spec.usage_limits is not None and (over := spec.usage_limits.exceeded(state.usage)) is not None:
        await state.close_calls(reply.tool_calls, NOT_RUN_LIMIT)
        raise UsageLimitExceeded(over[1], limit=over[0], **state.transcript())


NOT_RUN_LIMIT = "Error: not run: the run reached its usage limit."


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
    state.tools_called = True
    await _check_tool_call_budget(spec, state, calls)
    if stream:
        for call in calls:
            yield ToolCallStarted(call.tool_call_id, call.name, _as_object(call), call.arguments)
    outcomes = await spec.dispatcher.run(
        calls,
        context,
        state.failures,
        state.journal.record,
        ordinals=range(state.calls_seen, state.calls_seen + len(calls)),
        scope=state.scope,
        timeout=deadline.remaining(),
    )
    state.calls_seen += len(calls)
    state.usage.tool_calls += len(calls)
    state.history.extend(spec.api.tool_result_item(o.call, o.content) for o in outcomes)
    if stream:
        for o in outcomes:
            yield ToolCallResult(o.call.tool_call_id, o.call.name, o.content, o.is_error)
    if any(o.deadline_passed for o in outcomes):
        raise RunTimeout(f"The run passed its deadline of {spec.run_timeout:g} s.", **state.transcript())
    state.failed_turns = check_failures(spec, state.failures, state.failed_turns, outcomes, state.transcript)
    if stream:
        yield TurnFinished(state.turn, reply.usage, _copy(state.usage))


async def _check_tool_call_budget(spec: RunSpec, state: _State, calls: list[ToolCall]) -> None:
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

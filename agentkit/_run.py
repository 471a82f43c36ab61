"""The agent loop: request, run every tool call, append results in order, repeat.

1. Send instructions + history + tool schemas (+ model settings).
2. If the reply contains tool calls (whatever its ``finish_reason``), run all of them
   concurrently; text that came with them stays in the history.
3. Append the assistant message, then exactly one result per call, in the model's call order.
4. Repeat until a reply has no tool calls: that is the final answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic

from ._context import RunContext
from ._dispatch import CallOutcome
from ._events import FinalResult, StreamEvent, TextDelta, ToolCallResult, ToolCallStarted, TurnFinished
from ._models import ModelTurn, ToolCall
from ._repair import count_tool_calls, repair_history
from ._result import InterruptedToolCall, RunResult, Usage
from .exceptions import (
    ConfigurationError,
    MaxTurnsExceeded,
    ModelBehaviorError,
    OutputValidationError,
    RunTimeout,
    ToolBudgetExceeded,
    ToolExecutionError,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from ._agent import Agent
    from .sessions import Session

logger = logging.getLogger("agentkit")
T = TypeVar("T")


@dataclass
class _State:
    """Everything one run mutates; never shared between runs."""

    history: list[dict[str, Any]]
    new_start: int
    usage: Usage = field(default_factory=Usage)
    failures: dict[str, int] = field(default_factory=dict)
    failed_turns: int = 0
    turn: int = 0
    calls_seen: int = 0
    """Tool calls in the thread so far: the next call's ordinal (for idempotency keys)."""

    def transcript(self) -> dict[str, Any]:
        return {"messages": list(self.history), "usage": self.usage}


async def run_loop(
    agent: Agent[Any, Any],
    client: AsyncOpenAI,
    user_input: str | list[dict[str, Any]] | None,
    *,
    messages: list[dict[str, Any]] | None,
    deps: Any,
    session: Session | None,
    stream: bool,
) -> AsyncGenerator[StreamEvent, None]:
    """Run the loop, yielding events (only the final one unless ``stream``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + agent.run_timeout if agent.run_timeout is not None else None
    api = agent._api
    run_id = uuid.uuid4().hex
    interrupted: list[InterruptedToolCall] = []
    if session is not None:
        if messages is not None:
            raise ConfigurationError("Pass either session= or messages=, not both.")
        history, interrupted, calls_seen = await _load_session(agent, session, deps, run_id)
    else:
        history = list(messages) if messages else []
        calls_seen = count_tool_calls(api, history)
    state = _State(history=history, new_start=len(history), calls_seen=calls_seen)
    context: RunContext[Any] = RunContext(deps=deps, run_id=run_id, usage=state.usage)

    new_items: list[dict[str, Any]] = []
    if isinstance(user_input, str):
        new_items.append(api.user_item(user_input))
    elif user_input:
        new_items.extend(user_input)
    if new_items:
        state.history.extend(new_items)
        if session is not None:
            await session.append(new_items)

    async def persist(outcome: CallOutcome) -> None:
        assert session is not None
        await session.append([api.tool_result_item(outcome.call, outcome.content)])

    output_retried = False
    request = agent._request
    try:
        while True:
            if state.turn >= agent.max_turns:
                raise MaxTurnsExceeded(
                    f"The run did not reach a final answer within max_turns={agent.max_turns}.",
                    **state.transcript(),
                )
            state.turn += 1
            reply: ModelTurn | None = None
            if stream:
                async for part in _bounded_iter(deadline, api.stream(client, request, state.history)):
                    if isinstance(part, str):
                        yield TextDelta(part, state.turn)
                    else:
                        reply = part
            else:
                reply = await _bounded(deadline, api.complete(client, request, state.history))
            assert reply is not None
            state.usage.add(reply.usage)
            state.history.extend(reply.items)
            if session is not None:
                await session.append(reply.items)

            if not reply.tool_calls:
                if agent.output_type is None:
                    output: Any = reply.text or ""
                else:
                    try:
                        output = _parse_output(agent.output_type, reply)
                    except ValueError as exc:
                        if output_retried:
                            raise OutputValidationError(
                                f"The final answer does not fit {agent.output_type.__name__}: {exc}",
                                **state.transcript(),
                            ) from exc
                        output_retried = True
                        retry_item = api.user_item(
                            f"Your answer does not match the required schema: {exc}\nAnswer again."
                        )
                        state.history.append(retry_item)
                        if session is not None:
                            await session.append([retry_item])
                        continue
                if stream:
                    yield TurnFinished(state.turn, reply.usage, _copy(state.usage))
                result = RunResult(
                    output=output,
                    messages=state.history,
                    new_messages=state.history[state.new_start :],
                    usage=state.usage,
                    run_id=run_id,
                    interrupted_tool_calls=interrupted,
                )
                yield FinalResult(result)
                return

            if stream:
                for call in reply.tool_calls:
                    yield ToolCallStarted(call.call_id, call.name, _parsed(call.arguments), call.arguments)
            calls = reply.tool_calls
            outcomes = await agent._dispatcher.run(
                calls,
                context,
                state.failures,
                persist if session is not None else None,
                ordinals=range(state.calls_seen, state.calls_seen + len(calls)),
                timeout=None if deadline is None else max(deadline - loop.time(), 0.0),
            )
            state.calls_seen += len(calls)
            state.history.extend(api.tool_result_item(o.call, o.content) for o in outcomes)
            if stream:
                for o in outcomes:
                    yield ToolCallResult(o.call.call_id, o.call.name, o.content, o.is_error)
            if any(o.deadline_passed for o in outcomes):
                raise RunTimeout(
                    f"The run passed its deadline of {agent.run_timeout:g} s.", **state.transcript()
                )
            _check_failures(agent, state, outcomes)
            if stream:
                yield TurnFinished(state.turn, reply.usage, _copy(state.usage))
    except asyncio.TimeoutError as exc:
        if deadline is None or loop.time() < deadline:
            raise
        raise RunTimeout(
            f"The run passed its deadline of {agent.run_timeout:g} s.", **state.transcript()
        ) from exc
    except ModelBehaviorError as exc:
        raise ModelBehaviorError(str(exc), **state.transcript()) from exc


INTERRUPTED_RESULT = (
    "Error: this tool call was interrupted (the process stopped while it ran); its outcome is unknown "
    "and it was not run again."
)


async def _load_session(
    agent: Agent[Any, Any], session: Session, deps: Any, run_id: str
) -> tuple[list[dict[str, Any]], list[InterruptedToolCall], int]:
    """Load a thread and close its dangling tool calls before anything is sent to the API.

    An idempotent tool is run again (its ``RunContext.idempotency_key`` is the same as the first
    time); any other tool is never re-run: its call is closed as "outcome unknown" and reported.
    The closing results are stored, so a thread is repaired once.
    """
    api = agent._api
    repaired = repair_history(api, await session.load())
    if not repaired.dangling:
        return repaired.slots, [], repaired.calls  # type: ignore[return-value]
    tools = agent._dispatcher.tools
    rerun = [(n, c) for n, c in repaired.dangling if (t := tools.get(c.name)) is not None and t.idempotent]
    context: RunContext[Any] = RunContext(deps=deps, run_id=run_id, usage=Usage())
    outcomes = await agent._dispatcher.run(
        [c for _, c in rerun], context, {}, None, ordinals=[n for n, _ in rerun]
    )
    contents = {n: o.content for (n, _), o in zip(rerun, outcomes, strict=True)}
    interrupted = [
        InterruptedToolCall(c.call_id, c.name, c.arguments) for n, c in repaired.dangling if n not in contents
    ]
    for call in interrupted:
        logger.warning(
            "tool call %s (%r) was interrupted; not re-running it", call.tool_call_id, call.tool_name
        )
    closing = [api.tool_result_item(c, contents.get(n, INTERRUPTED_RESULT)) for n, c in repaired.dangling]
    await session.append(closing)
    by_call = {id(c): item for (_, c), item in zip(repaired.dangling, closing, strict=True)}
    history = [by_call[id(s)] if isinstance(s, ToolCall) else s for s in repaired.slots]
    return history, interrupted, repaired.calls


def _check_failures(agent: Agent[Any, Any], state: _State, outcomes: list[CallOutcome]) -> None:
    """Apply the retry budgets. They count failed *turns*, so a model that sends several bad
    calls at once still sees every error before it is stopped."""
    failed_tools: dict[str, int] = {}
    for o in outcomes:
        if not o.is_error:
            continue
        if o.exception is not None and agent.raise_tool_errors:
            raise ToolExecutionError(
                f"Tool {o.call.name!r} raised {type(o.exception).__name__}: {o.exception}",
                tool_name=o.call.name,
                **state.transcript(),
            ) from o.exception
        failed_tools[o.call.name] = failed_tools.get(o.call.name, 0) + 1
    if not failed_tools:
        return
    state.failed_turns += 1
    for name in failed_tools:
        count = state.failures[name] = state.failures.get(name, 0) + 1
        tool = agent._dispatcher.tools.get(name)
        if tool is None:
            continue
        limit = tool.max_retries if tool.max_retries is not None else agent.max_tool_retries
        if count > limit:
            raise ToolBudgetExceeded(
                f"Tool {name!r} failed in {count} turns of this run (limit {limit}).", **state.transcript()
            )
    if state.failed_turns > agent.max_failed_turns:
        raise ToolBudgetExceeded(
            f"Tool calls failed in {state.failed_turns} turns of this run "
            f"(limit max_failed_turns={agent.max_failed_turns}).",
            **state.transcript(),
        )


def _parse_output(output_type: type[pydantic.BaseModel], reply: ModelTurn) -> pydantic.BaseModel:
    if reply.refusal:
        raise ValueError(f"the model refused: {reply.refusal}")
    try:
        return output_type.model_validate_json(reply.text or "")
    except pydantic.ValidationError as exc:
        raise ValueError(str(exc)) from exc


def _parsed(arguments: str) -> dict[str, Any] | None:
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _copy(usage: Usage) -> Usage:
    return Usage(**vars(usage))


async def _bounded(deadline: float | None, awaitable: Awaitable[T]) -> T:
    if deadline is None:
        return await awaitable
    remaining = deadline - asyncio.get_running_loop().time()
    return await asyncio.wait_for(awaitable, max(remaining, 0))


async def _bounded_iter(deadline: float | None, iterator: AsyncIterator[T]) -> AsyncIterator[T]:
    if deadline is None:
        async for item in iterator:
            yield item
        return
    try:
        while True:
            try:
                item = await _bounded(deadline, iterator.__anext__())
            except StopAsyncIteration:
                return
            yield item
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()

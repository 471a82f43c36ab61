"""Run one turn's tool calls concurrently and return their results in the model's call order.

This is the only place agentkit runs tools. Every failure becomes data for the model:

=====================  ==================================================================
what happened          what the model reads as that call's result
=====================  ==================================================================
unknown tool name      ``Unknown tool 'x'. Available tools: a, b.``
invalid arguments      every field path with what was expected (the tool does not run)
``raise ToolRetry(m)`` ``m``
tool raised            ``Error: ValueError: message`` (no traceback, secrets redacted)
tool timed out         ``Error: tool 'x' timed out after N s.``

tool cancelled itself    ``Error: CancelledError: ...`` (a real cancellation of the run propagates)
no free tool thread    ``Error: no free tool thread ...`` (every ``def`` thread is held by an
                       abandoned call)
result not serializable ``Error: the result of tool 'x' could not be serialized: ...``
=====================  ==================================================================

How functions are called and let go of at a deadline is ``execute``'s job. A tool with
``max_concurrency`` waits for a free slot (shared by all runs of the agent on the event loop)
before its function is called; the hooks see every call, and a step runner wraps each function call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import traceback
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .._context import RunContext
from .._events import ToolCallResult
from .._handoff import Handoff
from .._hooks import HookSet, Step, StepRunner, call_hooks
from .._redact import redact
from .._result import ToolCall
from .._schema.arguments import ArgumentLimits
from .._serialize import serialize_output, truncate
from .._tool import Tool
from ..exceptions import DurableError, ToolArgumentsError, ToolRetry
from .execute import Executor, NoFreeThread, SelfCancelled, TimedOut, bounded

logger = logging.getLogger("agentkit")

_MAX_ERROR_CHARS = 2000
DEADLINE_RESULT = "Error: the run's deadline passed before this tool call finished."

_substitute: ContextVar[Callable[[Tool[..., Any]], Tool[..., Any]] | None] = ContextVar(
    "agentkit_tool_substitute", default=None
)


@contextmanager
def substitute_tools(substitute: Callable[[Tool[..., Any]], Tool[..., Any]]) -> Iterator[None]:
    """Run every tool call in this context through ``substitute(tool)`` first.

    A context variable, so concurrent code elsewhere is untouched and no agent is mutated; the
    test kit uses it to answer tool calls from a recording.
    """
    token = _substitute.set(substitute)
    try:
        yield
    finally:
        _substitute.reset(token)


@dataclass(frozen=True)
class CallOutcome:
    """The result of one tool call."""

    call: ToolCall
    """The call as the model made it."""
    content: str
    """What the model reads."""
    is_error: bool
    """Whether the call failed."""
    exception: Exception | None = None
    """What the tool raised, kept for agents that re-raise tool errors."""
    deadline_passed: bool = False
    """The run's deadline passed before the call finished; it was cancelled."""
    handoff: Handoff | None = None
    """The call was a ``transfer_to_<name>``: the loop continues the run with that agent."""


def idempotency_key(scope: str, ordinal: int, tool_call_id: str) -> str:
    """A stable key for a tool call: the same whenever the same call is run again.

    ``scope`` is the thread (``session_id``) or, without a session, the run id; ``ordinal`` is the
    call's position among all tool calls of the thread. Two calls are told apart even when an
    OpenAI-compatible server reuses ids such as ``call_0``, in one thread or across threads.
    """
    raw = f"{len(scope)}:{scope}:{ordinal}:{tool_call_id}"
    return "ak-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


class ConcurrencyLimits:
    """One semaphore per limited tool and event loop, shared by every run of an agent."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def slot(self, tool: Tool[..., Any]) -> AsyncIterator[None]:
        """Hold one of the tool's ``max_concurrency`` slots (no-op for an unlimited tool)."""
        if tool.max_concurrency is None:
            yield
            return
        loop = asyncio.get_running_loop()
        semaphores = self._by_loop.setdefault(loop, {})
        semaphore = semaphores.get(tool.name)
        if semaphore is None:
            semaphore = semaphores[tool.name] = asyncio.Semaphore(tool.max_concurrency)
        async with semaphore:
            yield


@dataclass
class Dispatcher:
    """Runs tool calls for one agent; shared by all its runs."""

    tools: Mapping[str, Tool[..., Any]]
    """Tools by name."""
    executor: Executor
    """Calls the functions, with timeouts and abandonment."""
    max_output_chars: int | None
    """Results longer than this are truncated, head and tail kept."""
    argument_limits: ArgumentLimits = field(default_factory=ArgumentLimits)
    """Size and nesting limits of the model's arguments."""
    hooks: HookSet = field(default_factory=HookSet)
    """Callbacks before and after each tool call."""
    step_runner: StepRunner | None = None
    """Wraps each tool function call as a step (durable execution)."""
    concurrency: ConcurrencyLimits = field(default_factory=ConcurrencyLimits)
    """The ``max_concurrency`` slots; shared by every run (and per-run copy) of the agent."""

    async def run(
        self,
        calls: Sequence[ToolCall],
        context: RunContext[Any],
        failures: Mapping[str, int],
        on_result: Callable[[CallOutcome], Awaitable[None]] | None,
        *,
        ordinals: Sequence[int],
        scope: str,
        timeout: float | None = None,
    ) -> list[CallOutcome]:
        """Run ``calls`` concurrently and return one outcome per call, in call order.

        Args:
            calls: One turn's tool calls.
            context: The run's context (copied per call for tools that take it).
            failures: Failed turns per tool so far (``RunContext.retry``).
            on_result: Awaited with each outcome as soon as it is known (the session journal).
            ordinals: Each call's position among all tool calls of the thread; with the call id
                it makes each call's idempotency key unique even when a server reuses ids.
            scope: The thread's ``session_id``, or the run id without a session (idempotency keys).
            timeout: Seconds left before the run's deadline. Calls still running then are
                cancelled and get a deadline result (``deadline_passed``); finished ones keep theirs.
        """
        if len(calls) == 1 and timeout is None:
            return [await self._one(calls[0], ordinals[0], scope, context, failures, on_result)]
        # Under a deadline every call must be let go of on time: the flag is copied into each
        # call's task as it is created, then reset here.
        token = bounded.set(timeout is not None)
        try:
            tasks = [
                asyncio.ensure_future(self._one(c, n, scope, context, failures, on_result))
                for c, n in zip(calls, ordinals, strict=True)
            ]
        finally:
            bounded.reset(token)
        try:
            if timeout is None:
                return list(await asyncio.gather(*tasks))
            await asyncio.wait(tasks, timeout=timeout)
        except BaseException:
            # Cancellation or a BaseException from one call: stop the siblings and wait for
            # them, so nothing keeps running after the run has ended.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        outcomes: list[CallOutcome] = []
        for call, task in zip(calls, tasks, strict=True):
            if task.done():
                outcomes.append(task.result())
                continue
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            outcome = CallOutcome(call, DEADLINE_RESULT, True, deadline_passed=True)
            if on_result is not None:
                await on_result(outcome)
            outcomes.append(outcome)
        return outcomes

    async def _one(
        self,
        call: ToolCall,
        ordinal: int,
        scope: str,
        context: RunContext[Any],
        failures: Mapping[str, int],
        on_result: Callable[[CallOutcome], Awaitable[None]] | None,
    ) -> CallOutcome:
        if self.hooks.before_tool_call or self.hooks.after_tool_call:
            outcome = await self._hooked(call, ordinal, scope, context, failures)
        else:
            outcome = await self._execute(call, ordinal, scope, context, failures)
        if on_result is not None:
            await on_result(outcome)
        return outcome

    async def _hooked(
        self, call: ToolCall, ordinal: int, scope: str, context: RunContext[Any], failures: Mapping[str, int]
    ) -> CallOutcome:
        per_call = _call_context(context, call, call.name, failures, scope, ordinal)
        try:
            await call_hooks(self.hooks.before_tool_call, per_call, call)
        except ToolRetry as exc:
            outcome = self._error(call, exc.message)
        else:
            outcome = await self._execute(call, ordinal, scope, context, failures)
        result = ToolCallResult(call.tool_call_id, call.name, outcome.content, outcome.is_error)
        await call_hooks(self.hooks.after_tool_call, per_call, call, result)
        return outcome

    async def _execute(
        self, call: ToolCall, ordinal: int, scope: str, context: RunContext[Any], failures: Mapping[str, int]
    ) -> CallOutcome:
        tool = self.tools.get(call.name)
        if tool is None:
            available = ", ".join(sorted(self.tools)) or "(none)"
            return self._error(call, f"Unknown tool {call.name!r}. Available tools: {available}.")
        substitute = _substitute.get()
        if substitute is not None:
            tool = substitute(tool)
        try:
            kwargs = tool.validate(call.arguments, limits=self.argument_limits)
        except ToolArgumentsError as exc:
            return self._error(call, f"{exc}\nFix the arguments and call the tool again.")
        args: tuple[Any, ...] = ()
        if tool.takes_context:
            args = (_call_context(context, call, tool.name, failures, scope, ordinal),)
        step = None
        if self.step_runner is not None:
            key = idempotency_key(scope, ordinal, call.tool_call_id)
            step = Step("tool_call", tool.name, context.run_id, 0, call.tool_call_id, key)
        return await self._invoke(tool, call, args, kwargs, step)

    async def _invoke(
        self,
        tool: Tool[..., Any],
        call: ToolCall,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        step: Step | None,
    ) -> CallOutcome:
        """Call the function (in its concurrency slot, through the step runner); failures are data."""
        label = f"tool {tool.name!r} (call {call.tool_call_id})"

        async def run() -> Any:
            async with self.concurrency.slot(tool):
                return await self.executor.call(
                    tool.function, tool.is_async, args, kwargs, tool.timeout, label
                )

        try:
            value = await (run() if self.step_runner is None or step is None else self.step_runner(step, run))
        except DurableError:
            # The step runner's own failure (a replay that does not fit its record) ends the run;
            # it is no tool failure for the model to read.
            raise
        except ToolRetry as exc:
            return self._error(call, exc.message)
        except TimedOut:
            logger.warning("%s timed out after %s s", label, tool.timeout)
            return self._error(call, f"Error: tool {tool.name!r} timed out after {tool.timeout:g} s.")
        except NoFreeThread:
            return self._error(
                call,
                f"Error: no free tool thread for {tool.name!r}: every thread is still running an "
                "abandoned (timed-out) call. Try again later.",
            )
        except SelfCancelled:
            return self._raised(call, asyncio.CancelledError("the tool cancelled itself"))
        except Exception as exc:
            return self._raised(call, exc)
        return self._result(call, value)

    def _result(self, call: ToolCall, value: Any) -> CallOutcome:
        if isinstance(value, Handoff):
            return CallOutcome(call, value.message, False, handoff=value)
        try:
            text = serialize_output(value)
        except Exception as exc:
            logger.info("the result of tool %r could not be serialized: %s", call.name, redact(str(exc)))
            return self._error(
                call,
                f"Error: the result of tool {call.name!r} could not be serialized: "
                f"{type(exc).__name__}: {redact(str(exc))[:_MAX_ERROR_CHARS]}",
            )
        return CallOutcome(call, truncate(text, self.max_output_chars), False)

    def _raised(self, call: ToolCall, exc: BaseException) -> CallOutcome:
        message = redact(str(exc))[:_MAX_ERROR_CHARS]
        text = f"Error: {type(exc).__name__}: {message}" if message else f"Error: {type(exc).__name__}"
        # One redacted line at INFO; the (redacted) traceback only at DEBUG.
        logger.info("tool %r raised (call %s): %s", call.name, call.tool_call_id, text[7:])
        if logger.isEnabledFor(logging.DEBUG):
            trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            logger.debug("tool %r traceback (call %s):\n%s", call.name, call.tool_call_id, redact(trace))
        return CallOutcome(call, text, True, exc if isinstance(exc, Exception) else None)

    def _error(self, call: ToolCall, text: str) -> CallOutcome:
        logger.info(
            "tool call %s (%r) failed: %s", call.tool_call_id, call.name, redact(text.splitlines()[0])
        )
        return CallOutcome(call, truncate(text, self.max_output_chars), True)


def _call_context(
    context: RunContext[Any], call: ToolCall, name: str, failures: Mapping[str, int], scope: str, ordinal: int
) -> RunContext[Any]:
    """The run's context for one tool call."""
    return dataclasses.replace(
        context,
        tool_call_id=call.tool_call_id,
        tool_name=name,
        retry=failures.get(name, 0),
        idempotency_key=idempotency_key(scope, ordinal, call.tool_call_id),
    )

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
=====================  ==================================================================

``async def`` tools run on the event loop; ``def`` tools run on the agent's bounded thread pool.
A ``def`` tool that overruns its timeout cannot be stopped: the model is told it timed out, the
thread finishes in the background and its late result is discarded.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from .._context import RunContext
from .._redact import redact
from .._result import ToolCall
from .._serialize import serialize_output, truncate
from .._tool import Tool
from ..exceptions import ToolArgumentsError, ToolRetry

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


def idempotency_key(ordinal: int, call_id: str) -> str:
    """A stable key for a tool call: the same whenever the same call is run again.

    ``ordinal`` is the call's position among all tool calls of the thread, so two calls are
    told apart even when an OpenAI-compatible server reuses ids such as ``call_0``.
    """
    return "ak-" + hashlib.sha256(f"{ordinal}:{call_id}".encode()).hexdigest()[:32]


@dataclass
class Dispatcher:
    """Runs tool calls for one agent; shared by all its runs."""

    tools: Mapping[str, Tool[..., Any]]
    """Tools by name."""
    pool: Callable[[], ThreadPoolExecutor]
    """Returns the agent's thread pool for ``def`` tools (created on first use)."""
    max_output_chars: int | None
    """Results longer than this are truncated, head and tail kept."""

    async def run(
        self,
        calls: Sequence[ToolCall],
        context: RunContext[Any],
        failures: Mapping[str, int],
        on_result: Callable[[CallOutcome], Awaitable[None]] | None,
        *,
        ordinals: Sequence[int],
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
            timeout: Seconds left before the run's deadline. Calls still running then are
                cancelled and get a deadline result (``deadline_passed``); finished ones keep theirs.
        """
        if len(calls) == 1 and timeout is None:
            return [await self._one(calls[0], ordinals[0], context, failures, on_result)]
        tasks = [
            asyncio.ensure_future(self._one(c, n, context, failures, on_result))
            for c, n in zip(calls, ordinals, strict=True)
        ]
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
        context: RunContext[Any],
        failures: Mapping[str, int],
        on_result: Callable[[CallOutcome], Awaitable[None]] | None,
    ) -> CallOutcome:
        outcome = await self._execute(call, ordinal, context, failures)
        if on_result is not None:
            await on_result(outcome)
        return outcome

    async def _execute(
        self, call: ToolCall, ordinal: int, context: RunContext[Any], failures: Mapping[str, int]
    ) -> CallOutcome:
        tool = self.tools.get(call.name)
        if tool is None:
            available = ", ".join(sorted(self.tools)) or "(none)"
            return self._error(call, f"Unknown tool {call.name!r}. Available tools: {available}.")
        substitute = _substitute.get()
        if substitute is not None:
            tool = substitute(tool)
        try:
            kwargs = tool.validate(call.arguments)
        except ToolArgumentsError as exc:
            return self._error(call, f"{exc}\nFix the arguments and call the tool again.")
        args: tuple[Any, ...] = ()
        if tool.takes_context:
            args = (
                dataclasses.replace(
                    context,
                    tool_call_id=call.tool_call_id,
                    tool_name=tool.name,
                    retry=failures.get(tool.name, 0),
                    idempotency_key=idempotency_key(ordinal, call.tool_call_id),
                ),
            )
        try:
            if tool.is_async:
                awaitable: Awaitable[Any] = tool.function(*args, **kwargs)
            else:
                loop = asyncio.get_running_loop()
                ctx = contextvars.copy_context()
                awaitable = loop.run_in_executor(self.pool(), lambda: ctx.run(tool.function, *args, **kwargs))
            value = await (asyncio.wait_for(awaitable, tool.timeout) if tool.timeout else awaitable)
        except ToolRetry as exc:
            return self._error(call, exc.message)
        except asyncio.TimeoutError as exc:
            if tool.timeout is None:
                return self._raised(call, exc)
            logger.warning(
                "tool %r timed out after %s s (call %s)", tool.name, tool.timeout, call.tool_call_id
            )
            return self._error(call, f"Error: tool {tool.name!r} timed out after {tool.timeout:g} s.")
        except Exception as exc:
            return self._raised(call, exc)
        return CallOutcome(call, truncate(serialize_output(value), self.max_output_chars), False)

    def _raised(self, call: ToolCall, exc: Exception) -> CallOutcome:
        logger.info(
            "tool %r raised %s (call %s)", call.name, type(exc).__name__, call.tool_call_id, exc_info=exc
        )
        message = redact(str(exc))[:_MAX_ERROR_CHARS]
        text = f"Error: {type(exc).__name__}: {message}" if message else f"Error: {type(exc).__name__}"
        return CallOutcome(call, text, True, exc)

    def _error(self, call: ToolCall, text: str) -> CallOutcome:
        logger.info("tool call %s (%r) failed: %s", call.tool_call_id, call.name, text.splitlines()[0])
        return CallOutcome(call, truncate(text, self.max_output_chars), True)

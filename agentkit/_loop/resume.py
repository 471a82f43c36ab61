"""Start a run's history, from a session or from the caller's ``messages=``, repaired the same way.

Whatever its source, the history sent to the API has exactly one result per tool call: dangling
calls (a crash between a call and its result, or a caller passing an assistant message with
``tool_calls`` and no results) are closed before anything is sent. An idempotent tool is run
again (its ``RunContext.idempotency_key`` is the same as the first time); any other tool is never
re-run: its call is closed as "outcome unknown" and reported in ``RunResult.interrupted_tool_calls``.
A session stores the closing results, so a thread is repaired once. A tool result in
``messages=`` that answers no call is a ``ConfigurationError`` naming its index (in a session it
is dropped with a warning, since the thread cannot be edited by the caller).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .._context import RunContext
from .._result import ToolCall, Usage
from .._session import Session
from ..exceptions import ConfigurationError
from .repair import Repaired, repair_history
from .spec import RunSpec

logger = logging.getLogger("agentkit")

INTERRUPTED_RESULT = (
    "Error: this tool call was interrupted (the process stopped while it ran); its outcome is unknown "
    "and it was not run again."
)


@dataclass
class StartingHistory:
    """The history a run starts from."""

    items: list[dict[str, Any]]
    """What is sent before the new input."""
    calls: int
    """Tool calls already in the thread: the next call's ordinal (for idempotency keys)."""
    interrupted: list[ToolCall] = field(default_factory=list)
    """Calls closed as "outcome unknown" while loading."""
    thread_id: str | None = None
    """The session's id, which scopes idempotency keys; ``None`` without a session."""


async def from_messages(
    spec: RunSpec, messages: list[dict[str, Any]] | None, deps: Any, run_id: str
) -> StartingHistory:
    """Start from the caller's ``messages=`` (copied, never mutated).

    Raises:
        ConfigurationError: A tool result answers no tool call.
    """
    repaired = repair_history(spec.api, list(messages) if messages else [])
    if repaired.orphans:
        index = repaired.orphans[0]
        raise ConfigurationError(
            f"messages[{index}] is a tool result that answers no tool call of the assistant message "
            "before it; remove it or add the call."
        )
    items, interrupted = await _close_dangling(spec, repaired, deps, run_id, run_id)
    return StartingHistory(items, repaired.calls, interrupted)


async def from_session(spec: RunSpec, session: Session, deps: Any, run_id: str) -> StartingHistory:
    """Load a thread and close its dangling tool calls, storing the closing results."""
    repaired = repair_history(spec.api, await session.load())
    items, interrupted = await _close_dangling(spec, repaired, deps, run_id, session.session_id, session)
    return StartingHistory(items, repaired.calls, interrupted, session.session_id)


async def _close_dangling(
    spec: RunSpec,
    repaired: Repaired,
    deps: Any,
    run_id: str,
    scope: str,
    session: Session | None = None,
) -> tuple[list[dict[str, Any]], list[ToolCall]]:
    if not repaired.dangling:
        return repaired.slots, []  # type: ignore[return-value]
    api = spec.api
    tools = spec.dispatcher.tools
    rerun = [(n, c) for n, c in repaired.dangling if (t := tools.get(c.name)) is not None and t.idempotent]
    context: RunContext[Any] = RunContext(deps=deps, run_id=run_id, usage=Usage())
    outcomes = await spec.dispatcher.run(
        [c for _, c in rerun], context, {}, None, ordinals=[n for n, _ in rerun], scope=scope
    )
    contents = {n: o.content for (n, _), o in zip(rerun, outcomes, strict=True)}
    interrupted = [c for n, c in repaired.dangling if n not in contents]
    for call in interrupted:
        logger.warning("tool call %s (%r) was interrupted; not re-running it", call.tool_call_id, call.name)
    closing = [api.tool_result_item(c, contents.get(n, INTERRUPTED_RESULT)) for n, c in repaired.dangling]
    if session is not None:
        await session.append(closing)
    by_call = {id(c): item for (_, c), item in zip(repaired.dangling, closing, strict=True)}
    return [by_call[id(s)] if isinstance(s, ToolCall) else s for s in repaired.slots], interrupted

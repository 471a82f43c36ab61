"""Start a run's history, from a session or from the caller's ``messages=``, repaired the same way.

Whatever its source, the history sent to the API has exactly one result per tool call: dangling
calls (a crash between a call and its result, or a caller passing an assistant message with
``tool_calls`` and no results) are closed before anything is sent. An idempotent tool is run
again (its ``RunContext.idempotency_key`` is the same as the first time); any other tool is never
re-run: its call is closed as "outcome unknown" and reported in ``RunResult.interrupted_tool_calls``.
A session stores the closing results, so a thread is repaired once. A tool result in
``messages=`` that answers no call is a ``ConfigurationError`` naming its index (in a session it
is dropped with a warning, since the thread cannot be edited by the caller).

Calls a paused run waits at are left open (their places in ``items`` hold the ``ToolCall`` until
the decisions fill them). In a session they are the calls a pause marker names and no decided
marker closed; in ``messages=`` (which carry no marker) they are the unanswered calls that a
decision passed to ``run`` names, and other unanswered calls are closed as above.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .._context import RunContext
from .._result import ToolCall, Usage
from .._session import Session
from ..exceptions import ConfigurationError
from .pending import Waiting, strip_markers, waiting_calls
from .repair import Repaired, Slot, repair_history
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
    waiting: list[Waiting] = field(default_factory=list)
    """Calls the thread paused at (in call order); their results are missing from ``items``."""
    holes: list[int] = field(default_factory=list)
    """For each waiting call, the index in ``items`` its result goes to (a placeholder until then)."""


async def from_messages(
    spec: RunSpec, messages: list[dict[str, Any]] | None, deps: Any, run_id: str, decided: set[str]
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
    named = {c.tool_call_id: n for n, c in repaired.dangling if c.tool_call_id in decided}
    waiting = {n for n in named.values()}  # the latest call of each id (servers may reuse ids)
    items, interrupted = await _close_dangling(spec, repaired, deps, run_id, run_id, waiting)
    return _with_holes(spec, repaired, items, interrupted, None, waiting)


async def from_session(spec: RunSpec, session: Session, deps: Any, run_id: str) -> StartingHistory:
    """Load a thread and close its dangling tool calls, storing the closing results."""
    stored, waiting = strip_markers(await session.load())
    repaired = repair_history(spec.api, stored)
    for index in repaired.orphans:
        logger.warning(
            "session %r: dropping stored item %d, a tool result that answers no open call",
            session.session_id,
            index,
        )
    items, interrupted = await _close_dangling(
        spec, repaired, deps, run_id, session.session_id, waiting, session
    )
    return _with_holes(spec, repaired, items, interrupted, session.session_id, waiting)


def _with_holes(
    spec: RunSpec,
    repaired: Repaired,
    items: list[Slot],
    interrupted: list[ToolCall],
    thread_id: str | None,
    waiting: set[int],
) -> StartingHistory:
    open_calls = [(n, c) for n, c in repaired.dangling if n in waiting]
    holes = [i for i, slot in enumerate(items) if isinstance(slot, ToolCall)] if open_calls else []
    return StartingHistory(
        items,  # type: ignore[arg-type]
        repaired.calls,
        interrupted,
        thread_id,
        waiting_calls(spec.dispatcher.tools, open_calls),
        holes,
    )


async def _close_dangling(
    spec: RunSpec,
    repaired: Repaired,
    deps: Any,
    run_id: str,
    scope: str,
    waiting: set[int],
    session: Session | None = None,
) -> tuple[list[Slot], list[ToolCall]]:
    """Close the dangling calls that do not wait for a decision."""
    dangling = [(n, c) for n, c in repaired.dangling if n not in waiting]
    if not dangling:
        return repaired.slots, []
    api = spec.api
    tools = spec.dispatcher.tools
    rerun = [(n, c) for n, c in dangling if (t := tools.get(c.name)) is not None and t.idempotent]
    context: RunContext[Any] = RunContext(deps=deps, run_id=run_id, usage=Usage())
    outcomes = await spec.dispatcher.run(
        [c for _, c in rerun], context, {}, None, ordinals=[n for n, _ in rerun], scope=scope
    )
    contents = {n: o.content for (n, _), o in zip(rerun, outcomes, strict=True)}
    interrupted = [c for n, c in dangling if n not in contents]
    for call in interrupted:
        logger.warning("tool call %s (%r) was interrupted; not re-running it", call.tool_call_id, call.name)
    closing = [api.tool_result_item(c, contents.get(n, INTERRUPTED_RESULT)) for n, c in dangling]
    if session is not None:
        await session.append(closing)
    by_call: dict[int, Slot] = {id(c): item for (_, c), item in zip(dangling, closing, strict=True)}
    return [by_call.get(id(s), s) if isinstance(s, ToolCall) else s for s in repaired.slots], interrupted

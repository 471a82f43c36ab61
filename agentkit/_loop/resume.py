"""Start a run's history: from a session (repaired once) or from the caller's messages."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .._context import RunContext
from .._result import ToolCall, Usage
from .._session import Session
from .repair import count_tool_calls, repair_history
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
    """Calls closed as "outcome unknown" while loading the session."""


def from_messages(spec: RunSpec, messages: list[dict[str, Any]] | None) -> StartingHistory:
    """Start from the caller's ``messages=`` (copied, never mutated)."""
    items = list(messages) if messages else []
    return StartingHistory(items, count_tool_calls(spec.api, items))


async def from_session(spec: RunSpec, session: Session, deps: Any, run_id: str) -> StartingHistory:
    """Load a thread and close its dangling tool calls before anything is sent to the API.

    An idempotent tool is run again (its ``RunContext.idempotency_key`` is the same as the first
    time); any other tool is never re-run: its call is closed as "outcome unknown" and reported.
    The closing results are stored, so a thread is repaired once.
    """
    api = spec.api
    repaired = repair_history(api, await session.load())
    if not repaired.dangling:
        return StartingHistory(repaired.slots, repaired.calls)  # type: ignore[arg-type]
    tools = spec.dispatcher.tools
    rerun = [(n, c) for n, c in repaired.dangling if (t := tools.get(c.name)) is not None and t.idempotent]
    context: RunContext[Any] = RunContext(deps=deps, run_id=run_id, usage=Usage())
    outcomes = await spec.dispatcher.run(
        [c for _, c in rerun], context, {}, None, ordinals=[n for n, _ in rerun]
    )
    contents = {n: o.content for (n, _), o in zip(rerun, outcomes, strict=True)}
    interrupted = [c for n, c in repaired.dangling if n not in contents]
    for call in interrupted:
        logger.warning("tool call %s (%r) was interrupted; not re-running it", call.tool_call_id, call.name)
    closing = [api.tool_result_item(c, contents.get(n, INTERRUPTED_RESULT)) for n, c in repaired.dangling]
    await session.append(closing)
    by_call = {id(c): item for (_, c), item in zip(repaired.dangling, closing, strict=True)}
    items = [by_call[id(s)] if isinstance(s, ToolCall) else s for s in repaired.slots]
    return StartingHistory(items, repaired.calls, interrupted)

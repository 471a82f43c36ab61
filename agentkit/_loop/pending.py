"""Tool calls that wait for the caller: which calls pause a run, and how decisions resume it.

A run pauses at a turn's calls to ``requires_approval`` tools (when their arguments validate and
the predicate, if any, says so) and to ``client_tool`` tools; the turn's other calls run first.
The paused state is the thread itself: the assistant message whose calls have no result yet.
In a session the pause is also journaled as a marker item (``PAUSE_TYPE``), and so is the moment
decisions are accepted (``DECIDED_TYPE``); that tells a call waiting by design from one whose
process died while it ran. Markers are never sent to the API.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .._context import RunContext
from .._result import PendingToolCall, ToolCall, ToolDecision
from .._schema.arguments import ArgumentLimits
from .._serialize import serialize_output, truncate
from .._tool import Tool
from ..exceptions import ToolArgumentsError, ToolDecisionError
from .dispatch import Dispatcher

logger = logging.getLogger("agentkit")

PAUSE_TYPE = "agentkit.pause"
"""Marker item journaled when a run pauses: ``{"type", "pending": [{"ordinal", "tool_call_id"}]}``."""
DECIDED_TYPE = "agentkit.decided"
"""Marker item journaled when decisions are accepted: ``{"type", "ordinals": [...]}``."""


@dataclass(frozen=True)
class Waiting:
    """A pending call with its position among all the thread's tool calls."""

    ordinal: int
    """Its position among all tool calls of the thread (the idempotency key's input)."""
    call: PendingToolCall
    """The call as the caller sees it."""


def split_calls(
    dispatcher: Dispatcher,
    gated: frozenset[str],
    calls: Sequence[ToolCall],
    first_ordinal: int,
    context: RunContext[Any],
) -> tuple[list[int], list[Waiting]]:
    """Return the positions (in ``calls``) of the calls to run now, and the calls that wait."""
    if not gated or not any(c.name in gated for c in calls):
        return list(range(len(calls))), []
    now: list[int] = []
    waiting: list[Waiting] = []
    for position, call in enumerate(calls):
        tool = dispatcher.tools.get(call.name)
        kind = _kind(tool, call, context, dispatcher.argument_limits) if call.name in gated else None
        if kind is None:
            now.append(position)
        else:
            pending = PendingToolCall(call.tool_call_id, call.name, call.arguments, kind)
            waiting.append(Waiting(first_ordinal + position, pending))
    return now, waiting


def _kind(
    tool: Tool[..., Any] | None, call: ToolCall, context: RunContext[Any], limits: ArgumentLimits
) -> Literal["approval", "client"] | None:
    if tool is None:
        return None
    if tool.executed_by == "client":
        return "client"
    try:
        tool.validate(call.arguments, limits=limits)
    except ToolArgumentsError:
        return None  # Answered with the error as usual: nobody is asked to approve garbage.
    rule = tool.requires_approval
    if rule is True:
        return "approval"
    if rule is False:
        return None
    try:
        return "approval" if rule(call.parsed_arguments(), context) else None
    except Exception:
        logger.warning("requires_approval of tool %r raised; asking for approval", tool.name, exc_info=True)
        return "approval"


def pause_marker(waiting: Sequence[Waiting]) -> dict[str, Any]:
    """The marker item journaled when a run pauses."""
    return {
        "type": PAUSE_TYPE,
        "pending": [{"ordinal": w.ordinal, "tool_call_id": w.call.tool_call_id} for w in waiting],
    }


def decided_marker(ordinals: Sequence[int]) -> dict[str, Any]:
    """The marker item journaled when decisions for these calls are accepted."""
    return {"type": DECIDED_TYPE, "ordinals": list(ordinals)}


def strip_markers(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[int]]:
    """Remove the marker items; return the rest and the ordinals of calls still waiting by design."""
    if not any(item.get("type") in (PAUSE_TYPE, DECIDED_TYPE) for item in items):
        return items, set()
    paused: set[int] = set()
    decided: set[int] = set()
    kept: list[dict[str, Any]] = []
    for item in items:
        kind = item.get("type")
        if kind == PAUSE_TYPE:
            paused.update(int(p["ordinal"]) for p in item.get("pending") or ())
        elif kind == DECIDED_TYPE:
            decided.update(int(n) for n in item.get("ordinals") or ())
        else:
            kept.append(item)
    return kept, paused - decided


def waiting_calls(
    tools: Mapping[str, Tool[..., Any]], dangling: Sequence[tuple[int, ToolCall]]
) -> list[Waiting]:
    """The pending calls of a loaded thread, with their kind from the agent's tools."""
    return [
        Waiting(
            n,
            PendingToolCall(
                c.tool_call_id,
                c.name,
                c.arguments,
                "client"
                if (t := tools.get(c.name)) is not None and t.executed_by == "client"
                else "approval",
            ),
        )
        for n, c in dangling
    ]


def match_decisions(
    waiting: Sequence[Waiting], decisions: Sequence[ToolDecision]
) -> list[tuple[Waiting, ToolDecision]]:
    """Pair every waiting call with its decision, in call order.

    Raises:
        ToolDecisionError: A decision names no waiting call, names one twice, carries other
            arguments or does not fit the call's kind; or a waiting call has no decision.
    """
    by_id = {w.call.tool_call_id: w for w in waiting}
    chosen: dict[str, ToolDecision] = {}
    for decision in decisions:
        w = by_id.get(decision.tool_call_id)
        if w is None:
            raise ToolDecisionError(
                f"A decision names tool call {decision.tool_call_id!r}, which is not pending "
                f"(pending: {', '.join(by_id) or 'none'})."
            )
        if decision.tool_call_id in chosen:
            raise ToolDecisionError(f"Two decisions for tool call {decision.tool_call_id!r}.")
        _check_fits(w.call, decision)
        chosen[decision.tool_call_id] = decision
    missing = [w.call for w in waiting if w.call.tool_call_id not in chosen]
    if missing:
        names = ", ".join(f"{c.name} ({c.tool_call_id})" for c in missing)
        raise ToolDecisionError(f"The run is paused at tool calls that need a decision: {names}.")
    return [(w, chosen[w.call.tool_call_id]) for w in waiting]


def _check_fits(call: PendingToolCall, decision: ToolDecision) -> None:
    if decision.arguments != call.arguments:
        raise ToolDecisionError(
            f"The decision for tool call {call.tool_call_id!r} ({call.name}) was taken on other "
            f"arguments: {decision.arguments!r}; the pending call has {call.arguments!r}."
        )
    if decision.action == "approve" and call.kind == "client":
        raise ToolDecisionError(f"{call.name!r} is a client-executed tool: answer it with .output(value).")
    if decision.action == "output" and call.kind != "client":
        raise ToolDecisionError(f"{call.name!r} waits for approval: use .approve() or .deny(reason).")


def decided_content(decision: ToolDecision, max_chars: int | None) -> str:
    """What the model reads for a denied call or a client's output."""
    if decision.action == "deny":
        return (
            f"The user denied this tool call: {decision.reason}"
            if decision.reason
            else ("The user denied this tool call.")
        )
    return truncate(serialize_output(decision.value), max_chars)

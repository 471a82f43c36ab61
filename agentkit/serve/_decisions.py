"""Paused runs over HTTP: decisions on the calls a run waits at, and resuming it.

The pause itself is the core's (``@tool(requires_approval=...)``, ``client_tool``,
``RunResult.pending_tool_calls``, ``Agent.run_stream(decisions=...)``); the thread's session
holds the paused state, so a run resumes in any process, after a restart too. The service
keeps the waiting calls and the decisions taken so far in the run object (``_pending``,
``_decisions``), and resumes once every waiting call has one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import PendingToolCall, ToolDecision
from ..exceptions import ServeError
from ._store import Record

if TYPE_CHECKING:
    from ._app import Service

CANCELLED_REASON = "The run was cancelled before this call was decided."


async def latest_run(service: Service, thread_id: str, user: str) -> dict[str, Any] | None:
    """The thread's newest run, as stored."""
    page = await service.store.page("run", user, parent=thread_id, limit=1)
    return page.data[0] if page.data else None


def record_decision(run: dict[str, Any], decision: dict[str, Any], param: str) -> None:
    """Add one decision (``{"tool_call_id", "arguments", "action", "reason"?, "value"?}``) to a paused run.

    The decision is bound to the call id and to the exact arguments the model sent.

    Raises:
        ServeError: The run is not paused, the call is not waiting (or was decided), the
            arguments differ, or the action does not fit the call's kind (400).
    """
    if run["status"] != "requires_action":
        raise ServeError(
            f"Run {run['id']} is not waiting for decisions (status '{run['status']}').",
            param="run_id",
            code="run_not_requires_action",
        )
    pending = {p["tool_call_id"]: p for p in run.get("_pending") or ()}
    call = pending.get(decision["tool_call_id"])
    if call is None:
        raise ServeError(
            f"Tool call {decision['tool_call_id']!r} is not waiting in run {run['id']} "
            f"(waiting: {', '.join(pending) or 'none'}).",
            param=param,
            code="tool_call_not_pending",
        )
    if any(d["tool_call_id"] == call["tool_call_id"] for d in run["_decisions"]):
        raise ServeError(f"Tool call {call['tool_call_id']!r} was already decided.", param=param)
    if decision.get("arguments", call["arguments"]) != call["arguments"]:
        raise ServeError(
            f"The decision for tool call {call['tool_call_id']!r} ({call['name']}) was taken on other "
            f"arguments than the pending call's: {call['arguments']}.",
            param="arguments",
            code="arguments_mismatch",
        )
    action = decision["action"]
    if (action == "approve" and call["kind"] == "client") or (
        action == "output" and call["kind"] != "client"
    ):
        needed = "its output (submit_tool_outputs)" if call["kind"] == "client" else "approve or deny"
        raise ServeError(f"Tool call {call['tool_call_id']!r} ({call['name']}) needs {needed}.", param=param)
    run["_decisions"].append({**decision, "arguments": call["arguments"]})


def waiting_for(run: dict[str, Any]) -> list[dict[str, str]]:
    """The paused calls that have no decision yet."""
    decided = {d["tool_call_id"] for d in run.get("_decisions") or ()}
    return [p for p in run.get("_pending") or () if p["tool_call_id"] not in decided]


def to_decisions(run: dict[str, Any]) -> list[ToolDecision]:
    """The core's decisions for every paused call, built from the recorded ones."""
    calls = {p["tool_call_id"]: PendingToolCall(**p) for p in run["_pending"]}
    out = []
    for d in run["_decisions"]:
        call = calls[d["tool_call_id"]]
        if d["action"] == "approve":
            out.append(call.approve())
        elif d["action"] == "deny":
            out.append(call.deny(d.get("reason") or "Denied."))
        else:
            out.append(call.output(d["value"]))
    return out


async def leftover_denials(service: Service, thread_id: str, user: str) -> list[ToolDecision]:
    """Denials for the calls a cancelled paused run left waiting (the next run answers them).

    The core refuses a new run on a thread that waits at tool calls; a cancelled pause is
    closed by denying them, and the old run is marked so it is done once.
    """
    run = await latest_run(service, thread_id, user)
    if run is None or run["status"] != "cancelled" or not run.get("_pending") or run.get("_answered"):
        return []
    # A cancelled run's partial decisions are not carried out: every call is denied.
    calls = [PendingToolCall(**p) for p in run["_pending"]]
    run["_answered"] = True
    await service.store.save([Record("run", run["id"], user, run, thread_id)])
    return [c.deny(CANCELLED_REASON) for c in calls]

"""``/v1/threads/{id}/runs``: create (polled or streamed), list, retrieve, cancel, resume a stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .. import Agent
from ..exceptions import ServeError
from ._app import Service, endpoint, json_response, not_found, parse_body
from ._decisions import leftover_denials, record_decision, to_decisions, waiting_for
from ._objects import TERMINAL, list_object, new_id, now, public, run_object
from ._routes_objects import add_messages, check_idle, find_assistant, find_thread, list_params
from ._schemas import MessageCreate, RunCreate, SubmitToolOutputs
from ._store import Record

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

POLL_AFTER_MS = "200"
"""Sent as ``openai-poll-after-ms``: how often the SDK's ``create_and_poll`` asks again."""


def routes() -> list[Route]:
    from starlette.routing import Route

    base = "/v1/threads/{thread_id}/runs"
    return [
        Route(base, endpoint(list_runs), methods=["GET"]),
        Route(base, endpoint(create_run), methods=["POST"]),
        Route(base + "/{run_id}", endpoint(get_run), methods=["GET"]),
        Route(base + "/{run_id}/cancel", endpoint(cancel_run), methods=["POST"]),
        Route(base + "/{run_id}/submit_tool_outputs", endpoint(submit_tool_outputs), methods=["POST"]),
        Route(base + "/{run_id}/events", endpoint(run_events), methods=["GET"]),
    ]


async def create_run(service: Service, request: Request, user: str) -> Response:
    thread = await find_thread(service, request.path_params["thread_id"], user)
    body = await parse_body(request, RunCreate, service)
    assistant = await find_assistant(service, body.assistant_id, user)
    changes, tools = run_changes(service, body, assistant)
    agent = service.catalog.agent_for(assistant, changes)
    run_id = new_id("run")
    choices = {k: v for k, v in changes.items() if k in ("tool_choice", "parallel_tool_calls")}
    run = run_object(
        run_id,
        thread["id"],
        assistant,
        model=agent.model,
        instructions=agent.instructions or "",
        tools=tools,
        metadata=body.metadata,
        settings={**agent.model_settings, **choices},
    )
    run["_changes"] = changes
    await start_run(service, user, run, agent, body.additional_messages or [])
    if body.stream:
        return stream_response(service, run_id, after=0, native=False)
    return json_response(public(run))


async def start_run(
    service: Service, user: str, run: dict[str, Any], agent: Agent[Any, Any], messages: list[MessageCreate]
) -> None:
    """Hold the thread, store the run with its new messages in one transaction, and start it.

    Raises:
        ServeError: The thread has an active run (400).
    """
    thread_id = run["thread_id"]
    await check_idle(service, thread_id, user, claim_for=run["id"])
    try:
        denials = await leftover_denials(service, thread_id, user)
        await add_messages(
            service, thread_id, user, messages, run["id"], [Record("run", run["id"], user, run, thread_id)]
        )
    except BaseException:
        service.runner.release(thread_id, run["id"])
        raise
    service.runner.start(run, user, agent, denials)


async def resume_run(service: Service, run: dict[str, Any], user: str) -> None:
    """Continue a paused run whose every waiting call has a decision, in this process.

    Raises:
        ServeError: The thread is busy (400), or the run's assistant is gone (404).
    """
    assistant = await find_assistant(service, run["assistant_id"], user)
    agent = service.catalog.agent_for(assistant, run.get("_changes") or {})
    decisions = to_decisions(run)
    holder = service.runner.claim(run["thread_id"], run["id"])
    if holder is not None:
        raise ServeError(f"Thread {run['thread_id']} already has an active run {holder}.", code="thread_busy")
    run["status"], run["required_action"] = "queued", None
    try:
        await service.store.save([Record("run", run["id"], user, run, run["thread_id"])])
    except BaseException:
        service.runner.release(run["thread_id"], run["id"])
        raise
    service.runner.start(run, user, agent, decisions)


async def decide(
    service: Service, run: dict[str, Any], user: str, decisions: list[dict[str, Any]], param: str
) -> bool:
    """Record decisions on a paused run; resume it when none is missing. Return whether it resumed."""
    for decision in decisions:
        record_decision(run, decision, param)
    if waiting_for(run):
        await service.store.save([Record("run", run["id"], user, run, run["thread_id"])])
        return False
    await resume_run(service, run, user)
    return True


def run_changes(
    service: Service, body: RunCreate, assistant: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The per-run overrides of the assistant (``Catalog.agent_for`` changes), and the run's tools.

    Raises:
        ServeError: Truncation was asked for, or a tool is not registered (400).
    """
    if body.max_prompt_tokens is not None or (body.truncation_strategy or {}).get("type", "auto") != "auto":
        raise ServeError(
            "agentkit sends the whole thread; truncation is not supported.", param="truncation_strategy"
        )
    changes: dict[str, Any] = {}
    settings = {
        name: getattr(body, name)
        for name in ("temperature", "top_p", "max_completion_tokens")
        if getattr(body, name) is not None
    }
    if settings:
        changes["model_settings"] = settings
    if body.model:
        changes["model"] = body.model
    instructions = body.instructions if body.instructions is not None else assistant.get("instructions")
    if body.additional_instructions:
        instructions = f"{instructions or ''}\n\n{body.additional_instructions}".strip()
    if instructions != assistant.get("instructions"):
        changes["instructions"] = instructions
    tools = assistant["tools"]
    if body.tools is not None:
        tools = service.catalog.check_tools(body.tools)
        changes["tools"] = tools
    for name in ("tool_choice", "parallel_tool_calls"):
        if getattr(body, name) is not None:
            changes[name] = getattr(body, name)
    return changes, tools


async def find_run(service: Service, request: Request, user: str) -> dict[str, Any]:
    thread = await find_thread(service, request.path_params["thread_id"], user)
    run_id = request.path_params["run_id"]
    run = await service.runner.get_run(run_id, user)
    if run is None or run["thread_id"] != thread["id"]:
        raise not_found("run", run_id)
    return run


async def get_run(service: Service, request: Request, user: str) -> Response:
    run = await find_run(service, request, user)
    return json_response(public(run), headers={"openai-poll-after-ms": POLL_AFTER_MS})


async def list_runs(service: Service, request: Request, user: str) -> Response:
    thread = await find_thread(service, request.path_params["thread_id"], user)
    page = await service.store.page("run", user, parent=thread["id"], **list_params(request))
    data = []
    for stored in page.data:
        live = service.runner.live.get(stored["id"])
        data.append(public(live.run if live is not None else stored))
    return json_response(list_object(data, page.has_more))


async def cancel_run(service: Service, request: Request, user: str) -> Response:
    run = await find_run(service, request, user)
    if run["status"] in TERMINAL:
        raise ServeError(
            f"Cannot cancel run with status '{run['status']}'.", param="run_id", code="run_not_active"
        )
    if not await service.runner.cancel(run["id"]) and run["status"] == "requires_action":
        # Paused: nothing runs. The next run on the thread denies the calls it left waiting.
        run["status"], run["cancelled_at"], run["required_action"] = "cancelled", now(), None
        await service.store.save([Record("run", run["id"], user, run, run["thread_id"])])
    return json_response(public(run))


async def submit_tool_outputs(service: Service, request: Request, user: str) -> Response:
    run = await find_run(service, request, user)
    body = await parse_body(request, SubmitToolOutputs, service)
    after = run.get("_events", 0)
    outputs = [
        {"tool_call_id": o.tool_call_id, "action": "output", "value": o.output} for o in body.tool_outputs
    ]
    await decide(service, run, user, outputs, "tool_outputs")
    if body.stream:
        return stream_response(service, run["id"], after=after, native=False)
    return json_response(public(run))


async def run_events(service: Service, request: Request, user: str) -> Response:
    """Replay a run's stream in the Assistants format from ``Last-Event-ID`` (or ``?after=``)."""
    run = await find_run(service, request, user)
    return stream_response(service, run["id"], after=last_event_id(request), native=False)


def last_event_id(request: Request) -> int:
    """The event number a reconnecting client saw last: ``Last-Event-ID`` or ``?after=``; 0 if none.

    Raises:
        ServeError: The value is not a non-negative integer (400).
    """
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    if not raw.isdigit():
        raise ServeError("Last-Event-ID must be the number of an event of this run.", param="last-event-id")
    return int(raw)


def stream_response(service: Service, run_id: str, *, after: int, native: bool) -> Response:
    """SSE of a run's events: ``event:``, ``id:`` (its number) and JSON ``data:``.

    The Assistants stream ends with ``event: done`` / ``data: [DONE]``, as the API's did; the
    native stream ends after its ``final`` or ``error`` event. Events that are ready together
    go out in one write. The client going away ends this response only; the run goes on.
    """
    from sse_starlette import EventSourceResponse

    async def chunks() -> AsyncIterator[bytes]:
        async for batch in service.runner.follow_batches(run_id, after, native):
            yield "".join(event.sse(native) for event in batch).encode()
        if not native:
            yield b"event: done\ndata: [DONE]\n\n"

    return EventSourceResponse(chunks(), ping=15, sep="\n", headers={"cache-control": "no-cache"})

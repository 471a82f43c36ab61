"""The native run endpoint: one message in, agentkit's own events out (SSE) or the result (JSON).

Events: ``run_created``, ``text_delta``, ``tool_call_started``, ``tool_call_finished``,
``final`` and ``error`` (each a JSON object with ``type``); ``id:`` lines number them in the
run's log, shared with the Assistants stream of the same run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ._app import Service, endpoint, json_response, not_found, parse_body
from ._decisions import waiting_for
from ._objects import new_id, public, run_object
from ._routes_objects import find_assistant, find_thread
from ._routes_runs import decide, last_event_id, start_run, stream_response
from ._schemas import Decision, MessageCreate, NativeRun

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route


def routes() -> list[Route]:
    from starlette.routing import Route

    return [
        Route("/agentkit/threads/{thread_id}/runs", endpoint(create_native_run), methods=["POST"]),
        Route("/agentkit/runs/{run_id}/events", endpoint(native_events), methods=["GET"]),
        Route("/agentkit/runs/{run_id}/approve", endpoint(approve), methods=["POST"]),
        Route("/agentkit/runs/{run_id}/deny", endpoint(deny), methods=["POST"]),
    ]


async def create_native_run(service: Service, request: Request, user: str) -> Response:
    thread = await find_thread(service, request.path_params["thread_id"], user)
    body = await parse_body(request, NativeRun, service)
    assistant = await find_assistant(service, body.assistant_id, user)
    agent = service.catalog.agent_for(assistant, {})
    run_id = new_id("run")
    run = run_object(
        run_id,
        thread["id"],
        assistant,
        model=agent.model,
        instructions=agent.instructions or "",
        tools=assistant["tools"],
        metadata=None,
        settings=dict(agent.model_settings),
    )
    messages = [MessageCreate(role="user", content=body.input)] if body.input is not None else []
    await start_run(service, user, run, agent, messages)
    if body.stream:
        return stream_response(service, run_id, after=0, native=True)
    last: dict[str, Any] = {}
    async for event in service.runner.follow(run_id, 0, True):
        assert event.native is not None
        last = json.loads(event.native)
    return json_response({"run": public(run), "output": last.get("output"), "error": last.get("message")})


async def native_events(service: Service, request: Request, user: str) -> Response:
    """Replay (then follow) a run's native events after ``Last-Event-ID``."""
    run_id = request.path_params["run_id"]
    run = await service.runner.get_run(run_id, user)
    if run is None:
        raise not_found("run", run_id)
    return stream_response(service, run_id, after=last_event_id(request), native=True)


async def approve(service: Service, request: Request, user: str) -> Response:
    """Approve one waiting call (bound to its id and exact arguments)."""
    return await _decide(service, request, user, "approve")


async def deny(service: Service, request: Request, user: str) -> Response:
    """Deny one waiting call; the model reads ``reason`` as its result."""
    return await _decide(service, request, user, "deny")


async def _decide(service: Service, request: Request, user: str, action: str) -> Response:
    """Record the decision; once every waiting call has one, stream the resumed run's native
    events, else answer ``{"run", "waiting_for"}``."""
    run_id = request.path_params["run_id"]
    run = await service.runner.get_run(run_id, user)
    if run is None:
        raise not_found("run", run_id)
    body = await parse_body(request, Decision, service)
    after = run.get("_events", 0)
    decision = {"tool_call_id": body.tool_call_id, "arguments": body.arguments, "action": action}
    if action == "deny":
        decision["reason"] = body.reason
    if await decide(service, run, user, [decision], "tool_call_id"):
        return stream_response(service, run_id, after=after, native=True)
    return json_response({"run": public(run), "waiting_for": waiting_for(run)})

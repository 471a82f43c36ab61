"""``/v1/assistants``, ``/v1/threads`` and ``/v1/threads/{id}/messages``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import ServeError
from ._app import Service, endpoint, json_response, not_found, parse_body
from ._objects import list_object, message_object, new_id, now, public, thread_object
from ._schemas import AssistantCreate, AssistantUpdate, MessageCreate, ThreadCreate, ThreadUpdate
from ._store import Record

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route


def routes() -> list[Route]:
    from starlette.routing import Route

    return [
        Route("/v1/assistants", endpoint(list_assistants), methods=["GET"]),
        Route("/v1/assistants", endpoint(create_assistant), methods=["POST"]),
        Route("/v1/assistants/{assistant_id}", endpoint(get_assistant), methods=["GET"]),
        Route("/v1/assistants/{assistant_id}", endpoint(update_assistant), methods=["POST"]),
        Route("/v1/assistants/{assistant_id}", endpoint(delete_assistant), methods=["DELETE"]),
        Route("/v1/threads", endpoint(list_threads), methods=["GET"]),
        Route("/v1/threads", endpoint(create_thread), methods=["POST"]),
        Route("/v1/threads/{thread_id}", endpoint(get_thread), methods=["GET"]),
        Route("/v1/threads/{thread_id}", endpoint(update_thread), methods=["POST"]),
        Route("/v1/threads/{thread_id}", endpoint(delete_thread), methods=["DELETE"]),
        Route("/v1/threads/{thread_id}/messages", endpoint(list_messages), methods=["GET"]),
        Route("/v1/threads/{thread_id}/messages", endpoint(create_message), methods=["POST"]),
        Route("/v1/threads/{thread_id}/messages/{message_id}", endpoint(get_message), methods=["GET"]),
    ]


def list_params(request: Request) -> dict[str, Any]:
    """``limit`` (1-100, default 20), ``order`` (``asc``/``desc``, default ``desc``), ``after``, ``before``.

    Raises:
        ServeError: A parameter is out of range (400).
    """
    query = request.query_params
    raw_limit = query.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise ServeError("limit must be an integer from 1 to 100.", param="limit")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ServeError("order must be 'asc' or 'desc'.", param="order")
    return {
        "limit": int(raw_limit),
        "order": order,
        "after": query.get("after"),
        "before": query.get("before"),
    }


# --- assistants ---


async def find_assistant(service: Service, assistant_id: str, user: str) -> dict[str, Any]:
    """A served assistant (anyone's) or one of ``user``'s; 404 otherwise."""
    for served in service.catalog.assistants:
        if served["id"] == assistant_id:
            return served
    found = await service.store.get("assistant", assistant_id, user)
    if found is None:
        raise not_found("assistant", assistant_id)
    return found


async def list_assistants(service: Service, request: Request, user: str) -> Response:
    params = list_params(request)
    page = await service.store.page("assistant", user, **params)
    data = page.data
    if params["after"] is None and params["before"] is None:
        served = service.catalog.assistants
        data = [*served, *data] if params["order"] == "asc" else [*data, *served]
    return json_response(list_object(data, page.has_more))


def _assistant_fields(service: Service, body: AssistantCreate) -> dict[str, Any]:
    if body.tool_resources:
        raise ServeError(
            "tool_resources (code interpreter files, vector stores) are not supported by agentkit.",
            param="tool_resources",
            code="unsupported_tool",
        )
    fields: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"tools", "reasoning_effort"})
    if "tools" in body.model_fields_set:
        fields["tools"] = service.catalog.check_tools(body.tools)
    return fields


async def create_assistant(service: Service, request: Request, user: str) -> Response:
    body = await parse_body(request, AssistantCreate, service)
    assistant: dict[str, Any] = {
        "id": new_id("asst"),
        "object": "assistant",
        "created_at": now(),
        "name": None,
        "description": None,
        "instructions": None,
        "tools": [],
        "metadata": {},
        "temperature": None,
        "top_p": None,
        "response_format": "auto",
        "tool_resources": None,
    }
    assistant.update(_assistant_fields(service, body))
    await service.store.save([Record("assistant", assistant["id"], user, assistant)])
    return json_response(assistant)


async def get_assistant(service: Service, request: Request, user: str) -> Response:
    return json_response(await find_assistant(service, request.path_params["assistant_id"], user))


async def update_assistant(service: Service, request: Request, user: str) -> Response:
    assistant = await find_assistant(service, request.path_params["assistant_id"], user)
    if assistant["id"] in service.catalog.agents:
        raise ServeError("A served agent's assistant is read-only.", param="assistant_id")
    body = await parse_body(request, AssistantUpdate, service)
    assistant.update(_assistant_fields(service, body))
    await service.store.save([Record("assistant", assistant["id"], user, assistant)])
    return json_response(assistant)


async def delete_assistant(service: Service, request: Request, user: str) -> Response:
    assistant_id = request.path_params["assistant_id"]
    if assistant_id in service.catalog.agents:
        raise ServeError("A served agent's assistant cannot be deleted.", param="assistant_id")
    if not await service.store.delete("assistant", assistant_id, user):
        raise not_found("assistant", assistant_id)
    return json_response({"id": assistant_id, "object": "assistant.deleted", "deleted": True})


# --- threads ---


async def find_thread(service: Service, thread_id: str, user: str) -> dict[str, Any]:
    thread = await service.store.get("thread", thread_id, user)
    if thread is None:
        raise not_found("thread", thread_id)
    return thread


async def list_threads(service: Service, request: Request, user: str) -> Response:
    # Not in the Assistants API (which never listed threads); the playground needs it.
    page = await service.store.page("thread", user, **list_params(request))
    return json_response(list_object(page.data, page.has_more))


async def create_thread(service: Service, request: Request, user: str) -> Response:
    body = await parse_body(request, ThreadCreate, service)
    if body.tool_resources:
        raise ServeError("tool_resources are not supported by agentkit.", param="tool_resources")
    thread = thread_object(new_id("thread"), body.metadata)
    await service.store.save([Record("thread", thread["id"], user, thread)])
    await add_messages(service, thread["id"], user, body.messages)
    return json_response(thread)


async def get_thread(service: Service, request: Request, user: str) -> Response:
    return json_response(await find_thread(service, request.path_params["thread_id"], user))


async def update_thread(service: Service, request: Request, user: str) -> Response:
    thread = await find_thread(service, request.path_params["thread_id"], user)
    body = await parse_body(request, ThreadUpdate, service)
    if body.metadata is not None:
        thread["metadata"] = body.metadata
    await service.store.save([Record("thread", thread["id"], user, thread)])
    return json_response(thread)


async def delete_thread(service: Service, request: Request, user: str) -> Response:
    thread = await find_thread(service, request.path_params["thread_id"], user)
    await check_idle(service, thread["id"], user)
    run_ids: list[str] = []
    after = None
    while True:
        page = await service.store.page("run", user, parent=thread["id"], order="asc", after=after, limit=100)
        run_ids.extend(r["id"] for r in page.data)
        if not page.has_more:
            break
        after = page.data[-1]["id"]
    await service.store.delete_events(run_ids)
    await service.store.delete_children(thread["id"])
    session = service.store.session(thread["id"])
    try:
        await session.clear()
    finally:
        await _close(session)
    await service.store.delete("thread", thread["id"], user)
    return json_response({"id": thread["id"], "object": "thread.deleted", "deleted": True})


async def check_idle(service: Service, thread_id: str, user: str, claim_for: str | None = None) -> None:
    """Refuse changes to a thread while one of its runs is active or paused (as the API does).

    Args:
        claim_for: Also hold the thread for this new run (at once, before any await, so two
            runs started together cannot both pass).

    Raises:
        ServeError: 400 naming the active run.
    """
    runner = service.runner
    holder = runner.claim(thread_id, claim_for) if claim_for is not None else runner.active_on(thread_id)
    if holder is None:
        from ._decisions import latest_run

        latest = await latest_run(service, thread_id, user)
        if latest is not None and latest["status"] == "requires_action":
            holder = latest["id"]
            if claim_for is not None:
                runner.release(thread_id, claim_for)
    if holder is not None:
        raise ServeError(
            f"Thread {thread_id} already has an active run {holder}.", param="thread_id", code="thread_busy"
        )


# --- messages ---


async def add_messages(
    service: Service,
    thread_id: str,
    user: str,
    messages: list[MessageCreate],
    run_id: str | None = None,
    also: Sequence[Record] = (),
) -> list[dict[str, Any]]:
    """Append messages to the thread's transcript, then store them (and ``also``) in one transaction."""
    objects = [
        message_object(thread_id, m.role, m.text(), metadata=m.metadata, run_id=run_id) for m in messages
    ]
    if messages:
        session = service.store.session(thread_id)
        try:
            await session.append([{"role": m.role, "content": m.text()} for m in messages])
        finally:
            await _close(session)
    records = [Record("message", m["id"], user, m, thread_id) for m in objects]
    if records or also:
        await service.store.save([*records, *also])
    return objects


async def list_messages(service: Service, request: Request, user: str) -> Response:
    thread = await find_thread(service, request.path_params["thread_id"], user)
    page = await service.store.page("message", user, parent=thread["id"], **list_params(request))
    data = page.data
    run_id = request.query_params.get("run_id")
    if run_id is not None:
        data = [m for m in data if m.get("run_id") == run_id]
    return json_response(list_object([public(m) for m in data], page.has_more))


async def create_message(service: Service, request: Request, user: str) -> Response:
    thread = await find_thread(service, request.path_params["thread_id"], user)
    body = await parse_body(request, MessageCreate, service)
    await check_idle(service, thread["id"], user)
    (message,) = await add_messages(service, thread["id"], user, [body])
    return json_response(message)


async def get_message(service: Service, request: Request, user: str) -> Response:
    thread = await find_thread(service, request.path_params["thread_id"], user)
    message_id = request.path_params["message_id"]
    message = await service.store.get("message", message_id, user)
    if message is None or message["thread_id"] != thread["id"]:
        raise not_found("message", message_id)
    return json_response(public(message))


async def _close(session: Any) -> None:
    aclose = getattr(session, "aclose", None)
    if aclose is not None:
        await aclose()

"""``create_app``: the Starlette application, its errors, authentication and request bodies."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic

from ..exceptions import ServeError
from ._auth import RateLimit, RateLimiter, authenticate
from ._catalog import Catalog, Served
from ._runs import Runner
from ._store import DEFAULT_STORE, ServeStore, open_store

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

logger = logging.getLogger("agentkit.serve")
M = TypeVar("M", bound=pydantic.BaseModel)

DEFAULT_RATE_LIMIT = RateLimit()
"""600 requests per minute per key."""

MAX_BODY_BYTES = 1_048_576
"""Largest request body accepted by default (1 MiB); larger ones get 413."""


@dataclass
class Service:
    """Everything a request handler needs."""

    store: ServeStore
    catalog: Catalog
    runner: Runner
    limiter: RateLimiter | None
    max_body_bytes: int
    keys: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Verified key hashes -> (user, trusted until), see ``authenticate``."""


Handler = Callable[["Service", "Request", str], Awaitable["Response"]]


def create_app(
    served: Served,
    *,
    store: str | ServeStore = DEFAULT_STORE,
    client: AsyncOpenAI | None = None,
    cors_origins: Sequence[str] = (),
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
    max_body_bytes: int = MAX_BODY_BYTES,
    playground: bool = True,
    opentelemetry: bool = False,
) -> Starlette:
    """Build the ASGI app that serves agents over HTTP.

    Args:
        served: An ``Agent`` or a list of agents (each a read-only assistant, its tools usable by
            assistants created over the API), or a ``ToolRegistry`` (assistants created over the API).
        store: A store URL (``sqlite:///path.db``, ``postgresql://...``) or an opened store; the
            threads are agentkit sessions in it.
        client: The ``AsyncOpenAI`` client for assistants created over the API (see ``Catalog``).
        cors_origins: Origins allowed by CORS (``["*"]`` for any); none by default.
        rate_limit: Requests per API key, or ``None`` for no limit.
        max_body_bytes: Largest request body, in bytes.
        playground: Serve the browser playground at ``/playground``.
        opentelemetry: Wrap every request in an OpenTelemetry span (extra ``serve-otel``).

    Raises:
        ConfigurationError: A dependency is missing (extra ``serve``), or ``served``/``store`` is invalid.
    """
    _import_starlette()
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware

    from . import _routes_native, _routes_objects, _routes_runs

    opened = open_store(store) if isinstance(store, str) else store
    service = Service(
        store=opened,
        catalog=Catalog(served, client),
        runner=Runner(opened),
        limiter=RateLimiter(rate_limit) if rate_limit is not None else None,
        max_body_bytes=max_body_bytes,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await service.runner.shutdown()
            await service.catalog.aclose()
            await opened.aclose()

    routes = [*_routes_objects.routes(), *_routes_runs.routes(), *_routes_native.routes()]
    if playground:
        from . import _playground

        routes.extend(_playground.routes())
    middleware = []
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                allow_headers=["authorization", "content-type", "last-event-id", "openai-beta"],
                expose_headers=["retry-after"],
            )
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={ServeError: _serve_error, HTTPException: _http_error, Exception: _server_error},
    )
    app.state.service = service
    if opentelemetry:
        from ._otel import instrument

        return instrument(app)
    return app


def _import_starlette() -> None:
    try:
        import sse_starlette  # noqa: F401
        import starlette  # noqa: F401
    except ImportError as exc:
        from ..exceptions import ConfigurationError

        raise ConfigurationError(
            "agentkit.serve needs Starlette and sse-starlette: pip install 'agentkit-openai[serve]'"
        ) from exc


def endpoint(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate the bearer key, apply the key's rate limit, then call ``fn(service, request, user)``."""

    async def handle(request: Request) -> Response:
        service: Service = request.app.state.service
        user, key_hash = await authenticate(service.store, request.headers.get("authorization"), service.keys)
        if service.limiter is not None:
            service.limiter.check(key_hash)
        return await fn(service, request, user)

    handle.__name__ = fn.__name__
    return handle


async def parse_body(request: Request, model: type[M], service: Service) -> M:
    """Read and validate a JSON body, refusing bodies over the size limit.

    Raises:
        ServeError: 413 when too large, 400 when not JSON or invalid.
    """
    limit = service.max_body_bytes
    too_large = ServeError(
        f"The request body is larger than {limit} bytes.", status_code=413, code="request_too_large"
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise ServeError(
            "We could not parse the JSON body of your request. The body must be a JSON object.",
            code="invalid_json",
        ) from exc
    if not isinstance(data, dict):
        raise ServeError("The request body must be a JSON object.", code="invalid_json")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        from ._schemas import validation_error

        raise validation_error(exc) from exc


def json_response(data: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse(data, status_code=status_code, headers=headers)


def not_found(kind: str, object_id: str, param: str | None = None) -> ServeError:
    """The 404 for a missing object, or one that belongs to another user (never a 403)."""
    return ServeError(f"No {kind} found with id '{object_id}'.", status_code=404, param=param)


async def _serve_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServeError)
    return json_response(exc.to_json(), exc.status_code, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    from starlette.exceptions import HTTPException

    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Invalid URL ({request.method} {request.url.path})"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    error = ServeError(message, status_code=exc.status_code)
    return json_response(error.to_json(), exc.status_code, dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    error = ServeError(
        "The server had an error while processing your request.", status_code=500, type="server_error"
    )
    return json_response(error.to_json(), 500)

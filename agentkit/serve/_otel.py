"""One OpenTelemetry span per HTTP request, by OpenTelemetry's own ASGI middleware (lazy import)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError

if TYPE_CHECKING:
    from starlette.applications import Starlette


def instrument(app: Starlette) -> Starlette:
    """Wrap every request to ``app`` in a server span (``GET /v1/threads/{thread_id}`` etc.).

    The span uses the global tracer provider; configure it with the OpenTelemetry SDK. Request
    headers are not recorded (they carry the API key).

    Raises:
        ConfigurationError: ``opentelemetry-instrumentation-asgi`` is not installed.
    """
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    except ImportError as exc:
        raise ConfigurationError(
            "Request spans need OpenTelemetry's ASGI instrumentation: "
            "pip install 'agentkit-openai[serve-otel]'"
        ) from exc

    def span_name(scope: dict[str, Any]) -> str:
        # The route template, never the concrete path: ids stay out of span names.
        route = scope.get("route")
        path = getattr(route, "path", None) or _template(app, scope)
        return f"{scope.get('method', 'HTTP')} {path}"

    app.add_middleware(OpenTelemetryMiddleware, default_span_details=lambda scope: (span_name(scope), {}))
    return app


def _template(app: Starlette, scope: dict[str, Any]) -> str:
    from starlette.routing import Match

    for route in app.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", scope.get("path", "")))
    return "unmatched"

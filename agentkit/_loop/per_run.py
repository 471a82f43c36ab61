"""The agent's ``RunSpec`` adjusted for one run: tools disabled by their ``enabled`` predicate
are taken out of the request and the dispatcher, and tracing hooks are added when OpenTelemetry
is set up. Without either, the agent's spec is used as it is (no copy)."""

from __future__ import annotations

import dataclasses
from collections.abc import Set
from typing import Any

from .._context import RunContext
from .._otel import tracing_hooks
from .._wire import Request
from .spec import RunSpec


def for_run(spec: RunSpec, context: RunContext[Any]) -> RunSpec:
    """Return the spec this run uses.

    Raises:
        Exception: Whatever an ``enabled`` predicate raises, unchanged.
    """
    disabled = {t.name for t in spec.toggled if not t.enabled(context)} if spec.toggled else set()  # type: ignore[misc]
    traced = tracing_hooks(spec.request.model, spec.name)
    if not disabled and traced is None:
        return spec
    dispatcher = spec.dispatcher
    changes: dict[str, Any] = {}
    if disabled:
        dispatcher = dataclasses.replace(
            dispatcher, tools={n: t for n, t in dispatcher.tools.items() if n not in disabled}
        )
        changes["request"] = _without(spec.request, disabled)
        changes["request_after_tools"] = _without(spec.request_after_tools, disabled)
    if traced is not None:
        # Spans open before the agent's own hooks run and close after them.
        dispatcher = dataclasses.replace(
            dispatcher,
            hooks=dataclasses.replace(
                traced + dispatcher.hooks,
                after_tool_call=dispatcher.hooks.after_tool_call + traced.after_tool_call,
            ),
        )
        changes["hooks"] = dataclasses.replace(
            traced + spec.hooks,
            after_model_request=spec.hooks.after_model_request + traced.after_model_request,
            after_run=spec.hooks.after_run + traced.after_run,
        )
    return dataclasses.replace(spec, dispatcher=dispatcher, **changes)


def _without(request: Request, disabled: Set[str]) -> Request:
    params = [p for p in request.tool_params if _name(p) not in disabled]
    return dataclasses.replace(request, tool_params=params)


def _name(param: dict[str, Any]) -> str:
    function = param.get("function")
    return str(function["name"] if isinstance(function, dict) else param.get("name"))

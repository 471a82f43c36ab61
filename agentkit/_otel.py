"""OpenTelemetry spans for runs, model requests and tool calls, built on the hooks.

Spans are emitted only when the ``otel`` extra is installed (``pip install
'agentkit-openai[otel]'``), ``opentelemetry.trace`` has been imported and a real tracer provider is
set (``trace.set_tracer_provider(...)``); otherwise nothing is imported and nothing runs. Names
and attributes follow the OpenTelemetry GenAI semantic conventions (read 2026-11-29,
https://opentelemetry.io/docs/specs/semconv/gen-ai/):

==================  ================================  ==============================================
span                name                              attributes
==================  ================================  ==============================================
run                 ``invoke_agent {agent name}``     ``gen_ai.operation.name``, ``gen_ai.agent.name``,
                                                      ``gen_ai.request.model``, usage totals
model request       ``chat {model}``                  ``gen_ai.operation.name``, ``gen_ai.request.model``,
                                                      ``gen_ai.usage.input_tokens``/``output_tokens``,
                                                      ``gen_ai.response.finish_reasons``
tool call           ``execute_tool {tool name}``      ``gen_ai.tool.name``, ``gen_ai.tool.call.id``
==================  ================================  ==============================================

Tool arguments and results (``gen_ai.tool.call.arguments``/``.result``) are recorded only when
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from ._context import RunContext
from ._events import ToolCallResult
from ._hooks import Hooks, HookSet, ModelRequest, ModelResponse
from ._result import ToolCall

if TYPE_CHECKING:
    from ._result import RunResult

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def tracing_hooks(model: str, agent_name: str) -> HookSet | None:
    """Span hooks for one run, or ``None`` when OpenTelemetry is not set up."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    capture = os.environ.get(CAPTURE_ENV, "").lower() in ("1", "true", "yes")
    spans = _RunSpans(trace, provider.get_tracer("agentkit"), model, agent_name, capture)
    return HookSet.of(
        Hooks(
            before_run=spans.before_run,
            after_run=spans.after_run,
            before_model_request=spans.before_model_request,
            after_model_request=spans.after_model_request,
            before_tool_call=spans.before_tool_call,
            after_tool_call=spans.after_tool_call,
        )
    )


class _RunSpans:
    """The spans of one run (one instance per run, so no state is shared between runs)."""

    def __init__(self, trace: Any, tracer: Any, model: str, agent_name: str, capture: bool) -> None:
        self.trace = trace
        self.tracer = tracer
        self.model = model
        self.agent_name = agent_name
        self.capture = capture
        self.run: Any = None
        self.open: dict[Any, Any] = {}

    def _child(self, name: str, attributes: dict[str, Any]) -> Any:
        parent = self.trace.set_span_in_context(self.run) if self.run is not None else None
        return self.tracer.start_span(
            name, context=parent, kind=self.trace.SpanKind.CLIENT, attributes=attributes
        )

    def before_run(self, ctx: RunContext[Any]) -> None:
        self.run = self.tracer.start_span(
            f"invoke_agent {self.agent_name}",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.provider.name": "openai",
                "gen_ai.agent.name": self.agent_name,
                "gen_ai.request.model": self.model,
                "agentkit.run_id": ctx.run_id,
            },
        )

    def after_run(
        self, ctx: RunContext[Any], result: RunResult[Any] | None, error: BaseException | None
    ) -> None:
        for span in self.open.values():
            span.end()  # a request or call cut short by the error
        self.open.clear()
        if self.run is None:
            return
        self.run.set_attribute("gen_ai.usage.input_tokens", ctx.usage.input_tokens)
        self.run.set_attribute("gen_ai.usage.output_tokens", ctx.usage.output_tokens)
        if result is not None and result.pending_tool_calls:
            self.run.set_attribute(
                "agentkit.pending_tool_calls", [p.tool_call_id for p in result.pending_tool_calls]
            )
        if error is not None:
            self.run.record_exception(error)
            self.run.set_attribute("error.type", type(error).__name__)
            self.run.set_status(self.trace.Status(self.trace.StatusCode.ERROR, str(error)[:200]))
        self.run.end()

    def before_model_request(self, ctx: RunContext[Any], request: ModelRequest) -> None:
        self.open[("model", request.turn)] = self._child(
            f"chat {request.model}",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": request.model,
            },
        )

    def after_model_request(
        self, ctx: RunContext[Any], request: ModelRequest, response: ModelResponse
    ) -> None:
        span = self.open.pop(("model", request.turn), None)
        if span is None:
            return
        span.set_attribute("gen_ai.usage.input_tokens", response.usage.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", response.usage.output_tokens)
        if response.finish_reason:
            span.set_attribute("gen_ai.response.finish_reasons", [response.finish_reason])
        span.end()

    def before_tool_call(self, ctx: RunContext[Any], call: ToolCall) -> None:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": call.name,
            "gen_ai.tool.call.id": call.tool_call_id,
        }
        if self.capture:
            attributes["gen_ai.tool.call.arguments"] = call.arguments
        self.open[("tool", ctx.idempotency_key)] = self._child(f"execute_tool {call.name}", attributes)

    def after_tool_call(self, ctx: RunContext[Any], call: ToolCall, outcome: ToolCallResult) -> None:
        span = self.open.pop(("tool", ctx.idempotency_key), None)
        if span is None:
            return
        if self.capture:
            span.set_attribute("gen_ai.tool.call.result", outcome.content)
        if outcome.is_error:
            span.set_attribute("error.type", "tool_error")
            span.set_status(self.trace.Status(self.trace.StatusCode.ERROR))
        span.end()

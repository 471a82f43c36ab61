"""From ``Agent``'s options to the loop's ``RunSpec``: checked once, at construction.

``Agent`` is immutable, so what is built here can never go stale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pydantic

from ._config import check_number
from ._hooks import HookSet
from ._limits import UsageLimits
from ._loop.dispatch import Dispatcher
from ._loop.execute import Executor
from ._loop.spec import RunSpec
from ._schema.arguments import ArgumentLimits
from ._schema.strict_schema import NotStrictError, to_strict_schema
from ._tool import Tool
from ._wire import MAX_TOOLS, Request
from ._wire._chat import ChatAPI
from ._wire._responses import ResponsesAPI
from .exceptions import ConfigurationError
from .history import check_policy


def check_config(config: Mapping[str, Any]) -> None:
    """Check every option; raise ``ConfigurationError`` naming the first bad one and its range."""
    c = config
    tools_by_name(c["name"], c["tools"])
    if not isinstance(c["model"], str) or not c["model"]:
        raise ConfigurationError(f"Agent(model=...) must be a non-empty model name, not {c['model']!r}.")
    _check_options(c["api"], c["output_type"])
    integers = {"max_turns": 1, "max_tool_retries": 0, "max_failed_turns": 0, "tool_threads": 1}
    integers.update(max_argument_chars=2, max_argument_depth=1)
    for option, minimum in integers.items():
        check_number(f"Agent({option}=...)", c[option], minimum=minimum, integer=True)
    check_number("Agent(run_timeout=...)", c["run_timeout"], minimum=0, exclusive=True, optional=True)
    check_number(
        "Agent(max_tool_output_chars=...)",
        c["max_tool_output_chars"],
        minimum=100,
        integer=True,
        optional=True,
    )
    _check_limits(c["usage_limits"])
    check_policy(c["history"])


def build_spec(config: Mapping[str, Any], pool: Callable[[], ThreadPoolExecutor]) -> RunSpec:
    """Build what the loop needs from the (checked) options."""
    c = config
    tools: tuple[Tool[..., Any], ...] = c["tools"]
    chat = c["api"] == "chat"
    request = Request(
        model=c["model"],
        instructions=c["instructions"],
        tool_params=[t.to_openai() if chat else t.to_responses() for t in tools],
        settings=dict(c["model_settings"]),
        tool_choice=c["tool_choice"],
        parallel_tool_calls=c["parallel_tool_calls"],
        output_schema=_output_schema(c["output_type"]),
    )
    forced = c["tool_choice"] not in (None, "auto", "none")
    hooks = HookSet.of(c["hooks"])
    return RunSpec(
        api=ChatAPI() if chat else ResponsesAPI(),
        request=request,
        request_after_tools=(
            dataclasses.replace(request, tool_choice="auto") if forced and c["reset_tool_choice"] else request
        ),
        dispatcher=Dispatcher(
            tools_by_name(c["name"], tools),
            Executor(pool, c["tool_threads"]),
            c["max_tool_output_chars"],
            ArgumentLimits(c["max_argument_chars"], c["max_argument_depth"]),
            hooks=hooks,
            step_runner=c["step_runner"],
        ),
        output_type=c["output_type"],
        max_turns=c["max_turns"],
        run_timeout=c["run_timeout"],
        max_tool_retries=c["max_tool_retries"],
        max_failed_turns=c["max_failed_turns"],
        raise_tool_errors=c["raise_tool_errors"],
        allow_truncated_output=c["allow_truncated_output"],
        usage_limits=c["usage_limits"],
        rate_limiter=c["rate_limiter"],
        gated=frozenset(
            t.name for t in tools if t.executed_by == "client" or t.requires_approval is not False
        ),
        history=c["history"],
        toggled=tuple(t for t in tools if t.enabled is not None),
        hooks=hooks,
        step_runner=c["step_runner"],
        input_guardrails=c["input_guardrails"],
        output_guardrails=c["output_guardrails"],
        name=c["name"],
        needs_deps=tuple(t.name for t in tools if t.needs_deps),
    )


def tools_by_name(agent_name: str, tools: Sequence[Tool[..., Any]]) -> dict[str, Tool[..., Any]]:
    """Index the tools by name, refusing what the API would refuse."""
    if isinstance(tools, Tool) or not isinstance(tools, Sequence):
        raise ConfigurationError(f"Agent(tools=...) takes a list of tools, not {type(tools).__name__}.")
    if len(tools) > MAX_TOOLS:
        raise ConfigurationError(
            f"Agent {agent_name!r} has {len(tools)} tools; OpenAI accepts at most {MAX_TOOLS}."
        )
    by_name: dict[str, Tool[..., Any]] = {}
    for t in tools:
        if not isinstance(t, Tool):
            raise ConfigurationError(f"{t!r} is not a Tool: decorate it with @agentkit.tool.")
        if t.name in by_name:
            raise ConfigurationError(f"Two tools are named {t.name!r}.")
        by_name[t.name] = t
    return by_name


def _check_options(api: str, output_type: type[Any] | None) -> None:
    if api not in ("chat", "responses"):
        raise ConfigurationError(f"api must be 'chat' or 'responses', not {api!r}.")
    if output_type is not None and not (
        isinstance(output_type, type) and issubclass(output_type, pydantic.BaseModel)
    ):
        raise ConfigurationError("output_type must be a pydantic BaseModel subclass.")


def _check_limits(limits: UsageLimits | None) -> None:
    if limits is None:
        return
    if not isinstance(limits, UsageLimits):
        raise ConfigurationError(f"usage_limits must be a UsageLimits, not {type(limits).__name__}.")
    for option in ("tool_calls", "input_tokens", "output_tokens"):
        check_number(
            f"UsageLimits({option}=...)", getattr(limits, option), minimum=0, integer=True, optional=True
        )
    check_number("UsageLimits(cost_usd=...)", limits.cost_usd, minimum=0, optional=True)


def _output_schema(output_type: type[Any] | None) -> tuple[str, dict[str, Any]] | None:
    """The strict JSON schema of ``output_type``, from the same engine as the tools' schemas."""
    if output_type is None:
        return None
    try:
        schema, _report = to_strict_schema(output_type.model_json_schema(), nullable={})
    except NotStrictError as exc:
        raise ConfigurationError(
            f"output_type {output_type.__name__} cannot be a strict structured output: {exc}"
        ) from exc
    return output_type.__name__, schema

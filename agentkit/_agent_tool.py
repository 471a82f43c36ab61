"""``Agent.as_tool``: one agent offered to another as a tool.

The tool runs the sub-agent on the model's ``input`` (a string, or an instance of a pydantic
model) with the parent run's ``deps``, and returns the sub-agent's final output. Each call is a
fresh conversation for the sub-agent; the parent's history (and session) keeps the call and
its result like any tool's. The sub-run's usage is added to the parent's ``usage`` as soon as
the call ends, failed or not, and a context variable bounds how deeply agents may nest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import pydantic

from ._context import RunContext
from ._events import FinalResult, StreamEvent, SubAgentEvent, current_sink, mark_emitting
from ._tool import Tool, tool
from .exceptions import ConfigurationError, RunError, ToolRetry

if TYPE_CHECKING:
    from ._agent import Agent

__all__ = ["agent_tool"]

_depth: ContextVar[int] = ContextVar("agentkit_agent_depth", default=0)
"""How many agent tools are running around the current code (0 in a top-level run)."""


def agent_tool(
    agent: Agent[Any, Any],
    *,
    name: str | None,
    description: str | None,
    input_type: type[pydantic.BaseModel] | None,
    max_depth: int,
) -> Tool[..., Any]:
    """Build the tool ``Agent.as_tool`` returns (see there)."""
    if input_type is not None and not (
        isinstance(input_type, type) and issubclass(input_type, pydantic.BaseModel)
    ):
        raise ConfigurationError("as_tool(input_type=...) must be a pydantic BaseModel subclass.")
    if not (isinstance(max_depth, int) and max_depth >= 1):
        raise ConfigurationError(f"as_tool(max_depth=...) must be an integer >= 1, got {max_depth!r}.")
    tool_name = name or agent.name

    async def call(ctx: RunContext[Any], input: Any) -> Any:
        depth = _depth.get()
        if depth >= max_depth:
            raise ToolRetry(
                f"The agent tool {tool_name!r} was not run: agents are already nested {depth} deep "
                f"(max_depth={max_depth}). Answer without it."
            )
        text = input.model_dump_json() if isinstance(input, pydantic.BaseModel) else input
        token = _depth.set(depth + 1)
        try:
            return await _run(agent, text, ctx, tool_name)
        finally:
            _depth.reset(token)

    call.__annotations__ = {"ctx": RunContext[Any], "input": input_type or str, "return": Any}
    what = (
        "The request, in plain words."
        if input_type is None
        else (input_type.__doc__ or f"The {input_type.__name__}.").strip().splitlines()[0]
    )
    call.__doc__ = f"Run the agent.\n\nArgs:\n    input: {what}\n"
    mark_emitting(call)
    return tool(
        name=tool_name, description=description or agent.instructions or f"Ask the {agent.name} agent."
    )(call)


async def _run(agent: Agent[Any, Any], text: str, ctx: RunContext[Any], tool_name: str) -> Any:
    """Run the sub-agent (streaming it into the parent's stream when there is one)."""
    sink = current_sink()
    try:
        if sink is None:
            result = await agent.run(text, deps=ctx.deps)
        else:
            result = await _forward(agent.run_stream(text, deps=ctx.deps), sink, ctx, tool_name)
    except RunError as exc:
        ctx.usage.add(exc.usage)
        raise
    ctx.usage.add(result.usage)
    return result.output


async def _forward(
    events: AsyncIterator[StreamEvent],
    sink: Callable[[StreamEvent], None],
    ctx: RunContext[Any],
    tool_name: str,
) -> Any:
    result: Any = None
    async for event in events:
        if isinstance(event, FinalResult):
            result = event.result
        sink(SubAgentEvent(ctx.tool_call_id, tool_name, event))
    return result

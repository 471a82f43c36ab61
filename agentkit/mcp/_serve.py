"""The other direction: offer ``@tool`` functions, or a whole agent, to MCP clients.

Calls run through the agent loop's own dispatcher, so an MCP client sees exactly what a model
would: invalid arguments, ``ToolRetry``, exceptions and timeouts come back as results with
``isError: true`` and the same text, never as protocol errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from agentkit import Agent, RunContext, Tool, ToolCall, Usage
from agentkit._build import tools_by_name
from agentkit._loop.dispatch import Dispatcher
from agentkit._loop.execute import Executor

from ._transport import require_mcp

if TYPE_CHECKING:
    from mcp.server.lowlevel import Server

__all__ = ["mcp_server"]

_THREADS = 8
"""Threads for the served ``def`` tools."""


def mcp_server(
    tools: Sequence[Tool[..., Any]] | Agent[Any, Any],
    *,
    name: str = "agentkit",
    max_output_chars: int | None = None,
) -> Server[Any]:
    """Build an MCP server (the SDK's low-level ``Server``) offering ``tools``.

    Args:
        tools: ``@tool`` functions, or an ``Agent``: then one tool, ``agent.as_tool()``, takes
            ``input`` (the request) and returns the agent's final output.
        name: The server name MCP clients see.
        max_output_chars: Longer results are cut, keeping head and tail (``None``: no limit).

    Raises:
        ConfigurationError: The ``mcp`` extra is missing, something is not a Tool, or two tools
            share a name.
    """
    require_mcp()
    import mcp_types as types
    from mcp.server.lowlevel import Server

    offered = [tools.as_tool()] if isinstance(tools, Agent) else list(tools)
    by_name = tools_by_name(name, offered)
    pool: list[ThreadPoolExecutor] = []

    def get_pool() -> ThreadPoolExecutor:
        if not pool:
            pool.append(ThreadPoolExecutor(_THREADS, thread_name_prefix=f"agentkit-mcp-{name}"))
        return pool[0]

    dispatcher = Dispatcher(by_name, Executor(get_pool, _THREADS), max_output_chars)
    listed = [
        types.Tool(name=t.name, description=t.description, input_schema=t.parameters)
        for t in by_name.values()
    ]
    calls = 0

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        nonlocal calls
        calls += 1
        call_id = f"mcp_{uuid.uuid4().hex[:24]}"
        arguments = to_json(params.arguments or {}).decode()
        run_id = uuid.uuid4().hex
        context: RunContext[Any] = RunContext(deps=None, run_id=run_id, usage=Usage())
        [outcome] = await dispatcher.run(
            [ToolCall(call_id, params.name, arguments)], context, {}, None, ordinals=[calls], scope=run_id
        )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=outcome.content)], is_error=outcome.is_error
        )

    def input_schema(tool_name: str) -> dict[str, Any] | None:
        found = by_name.get(tool_name)
        return None if found is None else found.parameters

    return Server(name, get_tool_input_schema=input_schema, on_list_tools=list_tools, on_call_tool=call_tool)

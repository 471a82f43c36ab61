"""MCP: give an agent the tools of any MCP server, and offer agentkit tools to MCP clients.

Needs the ``mcp`` extra: ``pip install 'agentkit-openai[mcp]'``.

    from agentkit import Agent
    from agentkit.mcp import MCPServer

    async with MCPServer.stdio("python", args=["server.py"]) as server:
        agent = Agent(tools=await server.list_tools())
        result = await agent.run("...")

The other direction, from the command line: ``agentkit mcp serve module:tools``.
"""

from __future__ import annotations

from ._serve import mcp_server
from ._server import MCPServer

__all__ = ["MCPServer", "mcp_server"]

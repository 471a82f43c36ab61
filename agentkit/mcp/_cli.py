"""``agentkit mcp serve``: offer ``@tool`` functions, or an agent, to MCP clients.

Examples::

    agentkit mcp serve my_package.tools:TOOLS               # stdio (for Claude Desktop, IDEs, ...)
    agentkit mcp serve path/to/tools.py:get_weather --http --port 8000   # http://127.0.0.1:8000/mcp
    agentkit mcp serve my_package.bots:support_agent        # an Agent becomes one tool

The target is a ``Tool``, a list or tuple of them, an ``Agent``, or a module (every ``Tool`` it
defines). Exit status 2 when the target cannot be loaded.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agentkit import Agent, Tool
from agentkit.exceptions import AgentkitError

__all__ = ["add_arguments", "run"]


EXAMPLES = """examples:
  agentkit mcp serve my_package.tools:TOOLS                      stdio, for desktop apps and IDEs
  agentkit mcp serve path/to/tools.py:get_weather --http --port 8000   http://127.0.0.1:8000/mcp
  agentkit mcp serve my_package.bots:support_agent               an Agent, as one tool"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``mcp`` subcommand's ``serve`` action."""
    epilog = parser.epilog
    actions = parser.add_subparsers(dest="mcp_command", required=True)
    help_text = "serve tools or an agent over MCP (stdio, or streamable HTTP)"
    serve = actions.add_parser(
        "serve",
        help=help_text,
        description=help_text,
        epilog=EXAMPLES + ("\n\n" + epilog if epilog else ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "target", help="module:name or path/to/file.py:name (a Tool, a list of Tools, an Agent)"
    )
    serve.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    serve.add_argument("--host", default="127.0.0.1", help="with --http: the address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="with --http: the port")
    serve.add_argument("--name", default="agentkit", help="the server name MCP clients see")


def run(args: argparse.Namespace) -> int:
    """Run ``agentkit mcp serve`` until stdin closes (stdio) or the process is stopped (HTTP)."""
    try:
        target = _load(args.target)
        from ._serve import mcp_server

        server = mcp_server(target, name=args.name)
    except (ImportError, OSError, AttributeError, ValueError, AgentkitError) as exc:
        print(f"agentkit mcp serve: error: {exc}", file=sys.stderr)
        return 2
    if args.http:
        import uvicorn

        app = server.streamable_http_app(host=args.host)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0
    import anyio
    from mcp.server.stdio import stdio_server

    async def serve_stdio() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(serve_stdio)
    return 0


def _load(target: str) -> list[Tool[..., Any]] | Agent[Any, Any]:
    from agentkit._schema_cli import attribute_of, import_target, module_tools

    where, module, attribute = import_target(target)
    if not attribute:
        return module_tools(where, module)
    value = attribute_of(where, module, attribute)
    if isinstance(value, Agent):
        return value
    if isinstance(value, Tool):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Tool) for v in value):
        return list(value)
    raise ValueError(f"{target!r} is not a Tool, a list of Tools, or an Agent")

"""A real MCP server for the tests, on the ``mcp`` SDK's low-level ``Server``.

    python tests/mcp_fixture_server.py                 # stdio
    python tests/mcp_fixture_server.py --http PORT     # streamable HTTP on 127.0.0.1:PORT/mcp

The low-level server lets each tool declare the exact ``inputSchema`` a third-party server
might send (``$ref`` with siblings, free-form objects, recursion, nullable unions, unions and
references at the root), which the SDK's high-level server would normalise away. Tools named
``schema_*`` echo the arguments they received, so a test sees what reached the server.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
from mcp.shared.subscriptions import ToolsListChanged

PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
"""A 1x1 PNG."""

OBJECT_AB = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "add": OBJECT_AB,
    "echo": {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "What to say."},
            "times": {"type": "integer", "minimum": 1, "default": 1},
        },
        "required": ["text"],
    },
    "picture": {"type": "object", "properties": {}},
    "slow": {"type": "object", "properties": {"seconds": {"type": "number"}}, "required": ["seconds"]},
    "crash": {"type": "object", "properties": {}},
    "fail": {"type": "object", "properties": {}},
    "grow": {"type": "object", "properties": {}},
    "files": {"type": "object", "properties": {}},
    "schema_ref_siblings": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "Point": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
                "additionalProperties": False,
            }
        },
        "properties": {"origin": {"$ref": "#/$defs/Point", "description": "Where to start."}},
        "required": ["origin"],
    },
    "schema_free_form": {
        "type": "object",
        "properties": {"labels": {"type": "object", "additionalProperties": {"type": "string"}}},
        "required": ["labels"],
    },
    "schema_nullable": {
        "type": "object",
        "properties": {
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "tag": {"type": ["string", "null"]},
            "limit": {"type": "integer"},
        },
        "required": ["note"],
    },
    "schema_tree": {
        "type": "object",
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                },
                "required": ["value", "children"],
                "additionalProperties": False,
            }
        },
        "properties": {"root": {"$ref": "#/definitions/Node"}},
        "required": ["root"],
    },
    "schema_root_ref": {
        "type": "object",
        "$ref": "#/$defs/Query",
        "$defs": {
            "Query": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "page": {"type": "integer"}},
                "required": ["text"],
            }
        },
    },
    "schema_root_union": {
        "type": "object",
        "anyOf": [
            {"properties": {"id": {"type": "integer"}}, "required": ["id"]},
            {"properties": {"email": {"type": "string"}}, "required": ["email"]},
        ],
    },
    "schema_root_open": {"type": "object"},
}
DESCRIPTIONS = {
    "add": "Add two integers.",
    "echo": "Repeat a text.",
    "picture": "Return a tiny picture.",
    "slow": "Sleep, then answer.",
    "crash": "Stop the server process at once (exit status 3).",
    "fail": "Always fail.",
    "grow": "Offer one more tool, 'extra', and announce the new tool list.",
}
bus = InMemorySubscriptionBus()
grown: list[str] = []


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    names = [name for name in SCHEMAS if os.environ.get("MCP_FIXTURE_ONLY", name) == name]
    tools = [
        types.Tool(
            name=name, description=DESCRIPTIONS.get(name, f"Echo the arguments ({name})."), input_schema=s
        )
        for name, s in SCHEMAS.items()
        if name in names
    ]
    tools += [
        types.Tool(name=name, description="Added at run time.", input_schema={"type": "object"})
        for name in grown
    ]
    return types.ListToolsResult(tools=tools)


def text(value: str) -> list[types.ContentBlock]:
    return [types.TextContent(type="text", text=value)]


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    args = params.arguments or {}
    name = params.name
    if name == "add":
        total = {"total": args["a"] + args["b"]}
        return types.CallToolResult(content=[], structured_content=total)  # structured content only
    if name == "echo":
        return types.CallToolResult(content=text(" ".join([args["text"]] * args.get("times", 1))))
    if name == "picture":
        content: list[types.ContentBlock] = [
            types.TextContent(type="text", text="a red pixel"),
            types.ImageContent(type="image", data=PIXEL, mime_type="image/png"),
        ]
        return types.CallToolResult(content=content)
    if name == "files":
        content = [
            types.EmbeddedResource(
                type="resource",
                resource=types.TextResourceContents(
                    uri="file:///notes.txt", text="buy milk", mime_type="text/plain"
                ),
            ),
            types.EmbeddedResource(
                type="resource",
                resource=types.BlobResourceContents(
                    uri="file:///a.bin", blob="AAE=", mime_type="application/x-raw"
                ),
            ),
            types.ResourceLink(
                type="resource_link", uri="file:///big.csv", name="big.csv", mime_type="text/csv"
            ),
        ]
        return types.CallToolResult(content=content)
    if name == "slow":
        await anyio.sleep(args["seconds"])
        return types.CallToolResult(content=text("done"))
    if name == "crash":
        os._exit(3)
    if name == "fail":
        return types.CallToolResult(content=text("disk full"), is_error=True)
    if name == "grow":
        grown.append("extra")
        await bus.publish(ToolsListChanged())
        return types.CallToolResult(content=text("grown"))
    if name == "extra" and name in grown:
        return types.CallToolResult(content=text("extra works"))
    if name.startswith("schema_"):
        return types.CallToolResult(content=text("received " + json.dumps(args, sort_keys=True)))
    return types.CallToolResult(content=text(f"unknown tool {name}"), is_error=True)


def build() -> Server[Any]:
    return Server(
        "fixture",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_subscriptions_listen=ListenHandler(bus),
    )


async def serve_stdio() -> None:
    server = build()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(command: list[str], port: int) -> Iterator[None]:
    """Run ``command`` (an HTTP server on ``port``) until the block ends; wait until it listens."""
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, metavar="PORT")
    args = parser.parse_args()
    if args.http is None:
        anyio.run(serve_stdio)
        return
    import uvicorn

    app = build().streamable_http_app(host="127.0.0.1")
    asyncio.run(
        uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.http, log_level="warning")).serve()
    )


if __name__ == "__main__":
    main()

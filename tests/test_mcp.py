"""``agentkit.mcp.MCPServer`` against a real MCP server (``tests/mcp_fixture_server.py``).

The server runs as a stdio subprocess (one shared by the read-only tests, fresh ones for the
tests that crash it, time it out or change its tool list) and over streamable HTTP on
127.0.0.1. Every call goes through an ``Agent`` driven by the scripted model.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agentkit import Agent, Tool, tool
from agentkit.exceptions import ConfigurationError, MCPServerError, ToolDefinitionError
from agentkit.mcp import MCPServer
from agentkit.testing import ScriptedModel, reply, tool_call
from tests.mcp_fixture_server import PIXEL, free_port, running

pytestmark = pytest.mark.asyncio(loop_scope="module")

SERVER = str(Path(__file__).with_name("mcp_fixture_server.py"))


def fixture_server(**options: Any) -> MCPServer:
    return MCPServer.stdio(sys.executable, args=[SERVER], name="fixture", **options)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared() -> AsyncIterator[MCPServer]:
    async with fixture_server() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def tools(shared: MCPServer) -> dict[str, Tool[..., Any]]:
    return {t.name: t for t in await shared.list_tools()}


@tool
def local_clock() -> str:
    """Tell the time."""
    return "12:00"


async def run_agent(tools: list[Tool[..., Any]], *calls: Any, final: str = "done") -> list[dict[str, Any]]:
    """Run an agent whose model makes ``calls`` (one turn per list) and return the tool messages."""
    model = ScriptedModel([*(reply(tool_calls=turn) for turn in calls), reply(final)])
    with model.install():
        result = await Agent(tools=tools).run("go")
    model.assert_complete()
    assert result.output == final
    return [m for m in result.messages if m["role"] == "tool"]


# --- tools through an agent ---


async def test_tools_run_through_an_agent_next_to_local_tools(tools: dict[str, Tool[..., Any]]) -> None:
    messages = await run_agent(
        [tools["add"], tools["echo"], local_clock],
        [
            tool_call("add", {"a": 2, "b": 3}),
            tool_call("echo", {"text": "hi", "times": None}),
            tool_call("local_clock"),
        ],
        [tool_call("echo", {"text": "ho", "times": 2})],
    )
    assert [m["content"] for m in messages] == ['{"total":5}', "hi", "12:00", "ho ho"]
    assert tools["add"].to_openai()["function"]["strict"] is True


async def test_the_model_sees_the_strict_schema(tools: dict[str, Tool[..., Any]]) -> None:
    model = ScriptedModel([reply("ok")])
    with model.install():
        await Agent(tools=[tools["echo"]]).run("go")
    [sent] = model.requests[0]["tools"]
    assert sent["function"]["strict"] is True
    assert sent["function"]["parameters"] == {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "What to say."},
            "times": {
                "anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}],
                "description": "(default: 1)",
            },
        },
        "required": ["text", "times"],
        "additionalProperties": False,
    }
    assert tools["echo"].strict_report == (
        "'times' has a default (1): required and nullable in strict mode; "
        "a null from the model means the default",
    )


async def test_invalid_arguments_are_reported_without_calling_the_server(
    tools: dict[str, Tool[..., Any]],
) -> None:
    # Checked against the server's own schema, which is the contract (here it allows more keys).
    [message] = await run_agent([tools["add"]], [tool_call("add", {"a": "two", "c": 1})])
    assert message["content"] == (
        "Invalid arguments for tool 'add':\n  - <arguments>: 'b' is a required property\n"
        "  - a: 'two' is not of type 'integer'\nFix the arguments and call the tool again."
    )


# --- schema conversion: never silently weaker ---


async def test_ref_with_sibling_keywords_is_inlined(tools: dict[str, Tool[..., Any]]) -> None:
    t = tools["schema_ref_siblings"]
    assert t.strict and t.strict_report == ()
    origin = t.parameters["properties"]["origin"]
    assert "$ref" not in origin
    assert origin["description"] == "Where to start."
    assert origin["properties"] == {"x": {"type": "number"}, "y": {"type": "number"}}
    [message] = await run_agent([t], [tool_call(t.name, {"origin": {"x": 1, "y": 2}})])
    assert message["content"] == 'received {"origin": {"x": 1, "y": 2}}'


async def test_free_form_object_is_sent_as_is_not_narrowed(tools: dict[str, Tool[..., Any]]) -> None:
    t = tools["schema_free_form"]
    assert t.strict is False
    assert t.parameters["properties"]["labels"] == {
        "type": "object",
        "additionalProperties": {"type": "string"},
    }
    [line] = t.strict_report
    assert line.startswith("not strict: 'labels' is an object with free-form keys")
    [message] = await run_agent([t], [tool_call(t.name, {"labels": {"env": "prod", "team": "a"}})])
    assert message["content"] == 'received {"labels": {"env": "prod", "team": "a"}}'
    [bad] = await run_agent([t], [tool_call(t.name, {"labels": {"env": 3}})])
    assert "labels.env: 3 is not of type 'string'" in bad["content"]


async def test_nullable_unions_keep_null_and_optional_nulls_are_dropped(
    tools: dict[str, Tool[..., Any]],
) -> None:
    t = tools["schema_nullable"]
    assert t.strict
    props = t.parameters["properties"]
    assert props["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["tag"]["type"] == ["string", "null"]
    assert props["limit"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    [message] = await run_agent([t], [tool_call(t.name, {"note": None, "tag": None, "limit": None})])
    # ``note`` and ``tag`` accept null on the server: sent. ``limit`` does not: null means "not given".
    assert message["content"] == 'received {"note": null, "tag": null}'


async def test_recursive_definitions_stay_references(tools: dict[str, Tool[..., Any]]) -> None:
    t = tools["schema_tree"]
    assert t.strict
    assert t.parameters["properties"]["root"] == {"$ref": "#/$defs/Node"}
    node = t.parameters["$defs"]["Node"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    tree = {"root": {"value": 1, "children": [{"value": 2, "children": []}]}}
    [message] = await run_agent([t], [tool_call(t.name, tree)])
    assert message["content"] == "received " + json.dumps(tree, sort_keys=True)


async def test_object_roots_with_a_ref_a_union_or_no_properties(tools: dict[str, Tool[..., Any]]) -> None:
    ref = tools["schema_root_ref"]
    assert ref.strict and set(ref.parameters["properties"]) == {"text", "page"}
    assert "$ref" not in ref.parameters and "$defs" not in ref.parameters
    [message] = await run_agent([ref], [tool_call(ref.name, {"text": "q", "page": None})])
    assert message["content"] == 'received {"text": "q"}'
    for name, schema in [
        ("schema_root_open", {"type": "object"}),
        (
            "schema_root_union",
            {
                "type": "object",
                "anyOf": [
                    {"properties": {"id": {"type": "integer"}}, "required": ["id"]},
                    {"properties": {"email": {"type": "string"}}, "required": ["email"]},
                ],
            },
        ),
    ]:
        t = tools[name]
        assert t.strict is False and t.parameters == schema, name
        assert t.strict_report == (
            "not strict: the root declares no properties, so the server accepts other objects too",
        )
    [open_call] = await run_agent([tools["schema_root_open"]], [tool_call("schema_root_open", {"any": [1]})])
    assert open_call["content"] == 'received {"any": [1]}'


async def test_strict_true_refuses_and_false_sends_every_schema_unchanged() -> None:
    with pytest.raises(ToolDefinitionError, match="MCP tool 'schema_free_form': strict=True is not possible"):
        async with fixture_server(strict=True) as server:
            await server.list_tools()
    async with fixture_server(strict=False) as server:
        listed = await server.list_tools()
    assert not any(t.strict for t in listed)
    tree = next(t for t in listed if t.name == "schema_tree")
    assert "definitions" in tree.parameters  # the server's own schema, as it listed it


# --- results ---


async def test_images_resources_and_error_results(tools: dict[str, Tool[..., Any]]) -> None:

    calls = [tool_call("picture"), tool_call("files"), tool_call("fail")]
    model = ScriptedModel([reply(tool_calls=calls), reply("done")])
    events = []
    with model.install():
        async for event in Agent(tools=[tools["picture"], tools["files"], tools["fail"]]).run_stream("go"):
            events.append(event)
    results = [e for e in events if type(e).__name__ == "ToolCallResult"]
    assert [(r.content, r.is_error) for r in results] == [
        (f'a red pixel\n{{"media_type":"image/png","encoding":"base64","data":"{PIXEL}"}}', False),
        (
            "[resource: file:///notes.txt]\nbuy milk\n"
            '[resource: file:///a.bin]\n{"media_type":"application/x-raw","encoding":"base64","data":"AAE="}\n'
            "[resource link: file:///big.csv (big.csv, text/csv)]",
            False,
        ),
        ("disk full", True),
    ]


# --- lifecycle, timeouts, crashes, tool-list changes ---


async def test_a_slow_call_times_out_and_the_server_keeps_serving() -> None:
    async with fixture_server(timeout=0.5) as server:
        by_name = {t.name: t for t in await server.list_tools()}
        messages = await run_agent(
            [by_name["slow"], by_name["add"]],
            [tool_call("slow", {"seconds": 5})],
            [tool_call("add", {"a": 1, "b": 1})],
        )
    assert [m["content"] for m in messages] == ["Error: tool 'slow' timed out after 0.5 s.", '{"total":2}']


async def test_a_crashed_server_fails_its_calls_and_nothing_else() -> None:
    async with fixture_server() as server:
        by_name = {t.name: t for t in await server.list_tools()}
        started = time.monotonic()
        messages = await run_agent(
            [by_name["crash"], by_name["add"], local_clock],
            [tool_call("crash"), tool_call("local_clock")],
            [tool_call("add", {"a": 1, "b": 1}), tool_call("local_clock")],
        )
        assert time.monotonic() - started < 10
        assert not server.connected
        with pytest.raises(MCPServerError, match="is not running"):
            await server.list_tools()
    crash, clock, add, clock2 = (m["content"] for m in messages)
    assert crash.startswith(
        "Error: MCPServerError: MCP server 'fixture' is not running: its connection closed"
    )
    assert add.startswith("Error: MCPServerError: MCP server 'fixture' is not running")
    assert clock == clock2 == "12:00"


async def test_tool_list_changes_are_noticed() -> None:
    async with fixture_server(tools=None) as server:
        first = {t.name: t for t in await server.list_tools()}
        assert "extra" not in first and not server.tools_changed
        assert await server.list_tools() == list(first.values())  # kept until the server announces a change
        await run_agent([first["grow"]], [tool_call("grow")])
        for _ in range(100):
            if server.tools_changed:
                break
            await _sleep(0.05)
        assert server.tools_changed
        second = {t.name: t for t in await server.list_tools()}
        assert not server.tools_changed
        [message] = await run_agent([second["extra"]], [tool_call("extra")])
    assert message["content"] == "extra works"


async def test_lifecycle_errors() -> None:
    server = fixture_server()
    with pytest.raises(MCPServerError, match="is not connected: use `async with server:`"):
        await server.list_tools()
    with pytest.raises(MCPServerError, match=r"could not be started or reached: .*No such file"):
        async with MCPServer.stdio("/nonexistent/mcp-server"):
            pass
    silent = MCPServer.stdio(sys.executable, args=["-c", "import time; time.sleep(30)"], connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(MCPServerError, match="did not complete the MCP handshake within 1 s"):
        async with silent:
            pass
    assert time.monotonic() - started < 10
    async with server:
        assert server.connected
        with pytest.raises(MCPServerError, match="already connected"):
            await server.__aenter__()
        [add] = [t for t in await server.list_tools() if t.name == "add"]
    assert not server.connected
    await server.aclose()  # twice is fine
    with pytest.raises(MCPServerError, match="is not connected"):
        await add(a=1, b=2)
    with pytest.raises(ConfigurationError, match="timeout must be a positive number"):
        fixture_server(timeout=0)


async def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'agentkit-openai\[mcp\]'"):
        async with fixture_server():
            pass


# --- streamable HTTP ---


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    port = free_port()
    with running([sys.executable, SERVER, "--http", str(port)], port):
        yield f"http://127.0.0.1:{port}/mcp"


async def test_streamable_http(http_url: str) -> None:
    async with MCPServer.http(http_url, headers={"x-test": "1"}, tools=["add", "picture"]) as server:
        listed = await server.list_tools()
        assert [t.name for t in listed] == ["add", "picture"]
        messages = await run_agent(listed, [tool_call("add", {"a": 20, "b": 22}), tool_call("picture")])
    assert messages[0]["content"] == '{"total":42}'
    assert messages[1]["content"].startswith('a red pixel\n{"media_type":"image/png","encoding":"base64"')


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)

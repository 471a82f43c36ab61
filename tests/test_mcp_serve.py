"""``agentkit mcp serve`` and ``agentkit.mcp.mcp_server``: agentkit tools offered to MCP clients."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agentkit import Agent
from agentkit._cli import main
from agentkit.exceptions import ConfigurationError
from agentkit.mcp import MCPServer, mcp_server
from agentkit.testing import ScriptedModel, reply, tool_call
from tests.mcp_fixture_server import free_port, running
from tests.mcp_served_tools import TOOLS, forecast

SERVED = str(Path(__file__).with_name("mcp_served_tools.py"))


async def test_cli_serves_tools_over_stdio_to_an_agent() -> None:
    command = ["-m", "agentkit._cli", "mcp", "serve", f"{SERVED}:TOOLS"]
    async with MCPServer.stdio(sys.executable, args=command, name="served") as server:
        listed = {t.name: t for t in await server.list_tools()}
        assert listed["forecast"].parameters == forecast.parameters  # strict schema survives the trip
        assert listed["forecast"].strict and listed["forecast"].strict_report == ()
        model = ScriptedModel(
            [
                reply(tool_calls=[tool_call("forecast", {"city": "Oslo", "days": None})]),
                reply(tool_calls=[tool_call("lookup_order", {"order_id": "1042"})]),
                reply("Clear skies in Oslo."),
            ]
        )
        with model.install():
            result = await Agent(tools=list(listed.values())).run("Weather in Oslo?")
    contents = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert contents == [
        '{"city":"Oslo","days":1,"sky":"clear"}',
        "'1042' is not an order id; they look like A-1042.",
    ]


async def test_failures_come_back_as_error_results_not_protocol_errors() -> None:
    from mcp import Client

    async with Client(mcp_server(TOOLS)) as client:
        bad = await client.call_tool("forecast", {"city": 3})
        retry = await client.call_tool("lookup_order", {"order_id": "x"})
        unknown = await client.call_tool("nope", {})
        good = await client.call_tool("lookup_order", {"order_id": "A-1"})
    assert bad.is_error and bad.content[0].text.startswith(
        "Invalid arguments for tool 'forecast':\n  - city:"
    )
    assert retry.is_error and retry.content[0].text == "'x' is not an order id; they look like A-1042."
    assert unknown.is_error and unknown.content[0].text.startswith("Unknown tool 'nope'.")
    assert not good.is_error and good.content[0].text == "order A-1: shipped"


async def test_an_agent_is_served_as_one_tool() -> None:
    from mcp import Client

    helper = Agent(name="helpdesk", instructions="Answer questions about orders.", tools=TOOLS)
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("lookup_order", {"order_id": "A-7"})]), reply("A-7 has shipped.")]
    )
    with model.install():
        async with Client(mcp_server(helper)) as client:
            [listed] = (await client.list_tools()).tools
            result = await client.call_tool("helpdesk", {"input": "Where is A-7?"})
    assert listed.description == "Answer questions about orders."
    assert result.content[0].text == "A-7 has shipped."
    assert model.requests[0]["messages"][-1] == {"role": "user", "content": "Where is A-7?"}


async def test_cli_serves_streamable_http() -> None:
    port = free_port()
    serve = ["-m", "agentkit._cli", "mcp", "serve", f"{SERVED}:forecast", "--http", "--port", str(port)]
    with running([sys.executable, *serve], port):
        async with MCPServer.http(f"http://127.0.0.1:{port}/mcp") as server:
            [listed] = await server.list_tools()
            assert await listed(city="Rome", days=2) == '{"city":"Rome","days":2,"sky":"clear"}'


def test_cli_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mcp", "serve", "no_such_module_xyz:tools"]) == 2
    assert "agentkit mcp serve: error: No module named 'no_such_module_xyz'" in capsys.readouterr().err
    assert main(["mcp", "serve", f"{SERVED}:missing"]) == 2
    assert "has no attribute 'missing'" in capsys.readouterr().err
    assert main(["mcp", "serve", f"{SERVED}:annotations"]) == 2
    assert "is not a Tool, a list of Tools, or an Agent" in capsys.readouterr().err


def test_mcp_server_refuses_what_is_not_a_tool() -> None:
    with pytest.raises(ConfigurationError, match="is not a Tool"):
        mcp_server([print])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="Two tools are named 'forecast'"):
        mcp_server([forecast, forecast])

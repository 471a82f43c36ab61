"""``Agent.as_tool``: one agent calling another, through the scripted model (one script serves
both agents, in request order)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import pytest

from agentkit import Agent, RunContext, tool
from agentkit.events import FinalResult, SubAgentEvent, TextDelta, ToolCallResult, ToolCallStarted
from agentkit.exceptions import ConfigurationError
from agentkit.sessions import MemorySession
from agentkit.testing import ScriptedModel, cassette, reply, tool_call


@dataclass
class Shop:
    name: str


@tool
def shop_name(ctx: RunContext[Shop]) -> str:
    """Name the shop."""
    return ctx.deps.name


researcher = Agent(name="researcher", instructions="Research orders.", tools=[shop_name], deps_type=Shop)
ask = tool_call("researcher", {"input": "Where is order A-1?"})


def parent(*tools: Any) -> Agent[Shop, str]:
    return Agent(name="support", instructions="Help customers.", tools=tools, deps_type=Shop)


async def test_the_sub_agent_answers_and_its_usage_counts() -> None:
    model = ScriptedModel(
        [
            reply(tool_calls=[ask], usage=(10, 5)),
            reply(tool_calls=[tool_call("shop_name")], usage=(7, 3)),  # the researcher
            reply("A-1 shipped from Teapots Inc.", usage=(8, 2)),  # the researcher's answer
            reply("Your order A-1 has shipped.", usage=(20, 4)),
        ]
    )
    with model.install():
        result = await parent(researcher.as_tool()).run("Where is A-1?", deps=Shop("Teapots Inc."))
    assert result.output == "Your order A-1 has shipped."
    assert (result.usage.requests, result.usage.input_tokens, result.usage.output_tokens) == (4, 45, 14)
    assert result.usage.tool_calls == 2  # the parent's call and the researcher's
    sub_request = model.requests[1]["messages"]
    assert sub_request == [
        {"role": "system", "content": "Research orders."},
        {"role": "user", "content": "Where is order A-1?"},
    ]
    assert model.requests[2]["messages"][-1]["content"] == "Teapots Inc."  # deps reached the sub-run
    [tool_message] = [m for m in result.messages if m["role"] == "tool"]
    assert tool_message["content"] == "A-1 shipped from Teapots Inc."
    [sent] = model.requests[0]["tools"]
    assert sent["function"]["name"] == "researcher" and sent["function"]["description"] == "Research orders."
    assert sent["function"]["parameters"]["properties"]["input"]["type"] == "string"


class Ticket(pydantic.BaseModel):
    """A support ticket to triage."""

    order_id: str
    urgency: int = 1


class Triage(pydantic.BaseModel):
    team: str


async def test_typed_input_and_structured_output() -> None:
    triage = Agent(name="triage", instructions="Route tickets.", output_type=Triage)
    agent_tool = triage.as_tool(name="route_ticket", description="Route a ticket.", input_type=Ticket)
    assert agent_tool.strict
    schema = agent_tool.parameters["properties"]["input"]
    assert schema["required"] == ["order_id", "urgency"] and schema["additionalProperties"] is False
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("route_ticket", {"input": {"order_id": "A-7", "urgency": 3}})]),
            reply('{"team": "billing"}'),
            reply("Billing will take it."),
        ]
    )
    with model.install():
        result = await Agent(tools=[agent_tool]).run("Route A-7, it is urgent.")
    assert model.requests[1]["messages"][-1]["content"] == '{"order_id":"A-7","urgency":3}'
    assert [m["content"] for m in result.messages if m["role"] == "tool"] == ['{"team":"billing"}']


async def test_nesting_is_bounded() -> None:
    inner = Agent(name="inner", instructions="Innermost.")
    middle = Agent(name="middle", instructions="Middle.", tools=[inner.as_tool(max_depth=1)])
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("middle", {"input": "go deeper"})]),
            reply(tool_calls=[tool_call("inner", {"input": "deepest"})]),  # middle tries inner: depth 1
            reply("I could not go deeper."),
            reply("Done."),
        ]
    )
    with model.install():
        result = await Agent(tools=[middle.as_tool()]).run("Go.")
    assert result.output == "Done."
    refused = model.requests[2]["messages"][-1]["content"]
    assert refused == (
        "The agent tool 'inner' was not run: agents are already nested 1 deep (max_depth=1). "
        "Answer without it."
    )
    with pytest.raises(ConfigurationError, match="max_depth"):
        inner.as_tool(max_depth=0)
    with pytest.raises(ConfigurationError, match="input_type"):
        inner.as_tool(input_type=dict)  # type: ignore[arg-type]


async def test_a_failed_sub_run_is_an_error_result_and_still_costs() -> None:
    stubborn = Agent(name="stubborn", instructions="Loop.", tools=[shop_name], max_turns=1, deps_type=Shop)
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("stubborn", {"input": "x"})], usage=(1, 1)),
            reply(tool_calls=[tool_call("shop_name")], usage=(5, 5)),
            reply("It failed.", usage=(1, 1)),
        ]
    )
    with model.install():
        result = await parent(stubborn.as_tool()).run("Go.", deps=Shop("s"))
    [content] = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert content.startswith(
        "Error: MaxTurnsExceeded: The run did not reach a final answer within max_turns=1."
    )
    assert result.usage.input_tokens == 7 and result.usage.requests == 3


async def test_the_sub_run_streams_inside_the_parent_stream() -> None:
    model = ScriptedModel(
        [
            reply(tool_calls=[ask]),
            reply(tool_calls=[tool_call("shop_name")]),
            reply("Shipped."),
            reply("It shipped."),
        ]
    )
    with model.install():
        events = [e async for e in parent(researcher.as_tool()).run_stream("Where?", deps=Shop("T"))]
    kinds = [
        (type(e).__name__, type(e.event).__name__ if isinstance(e, SubAgentEvent) else None) for e in events
    ]
    started = kinds.index(("ToolCallStarted", None))
    finished = kinds.index(("ToolCallResult", None))
    inside = [k for k in kinds[started + 1 : finished]]
    assert ("SubAgentEvent", "ToolCallStarted") in inside and ("SubAgentEvent", "FinalResult") in inside
    assert ("SubAgentEvent", "TextDelta") in inside
    sub = [e for e in events if isinstance(e, SubAgentEvent)]
    assert {e.tool_call_id for e in sub} == {events[started].tool_call_id}  # type: ignore[union-attr]
    assert {e.agent for e in sub} == {"researcher"}
    texts = "".join(e.event.text for e in sub if isinstance(e.event, TextDelta))
    assert texts == "Shipped."
    assert isinstance(events[-1], FinalResult) and events[-1].result.output == "It shipped."
    assert isinstance(events[started], ToolCallStarted) and isinstance(events[finished], ToolCallResult)


async def test_with_a_session_the_parent_thread_keeps_the_call() -> None:
    thread = MemorySession("customer-1")
    model = ScriptedModel(
        [reply(tool_calls=[ask]), reply("Shipped."), reply("It shipped."), reply("You are welcome.")]
    )
    agent = parent(researcher.as_tool())
    with model.install():
        await agent.run("Where is A-1?", deps=Shop("T"), session=thread)
        second = await agent.run("Thanks!", deps=Shop("T"), session=thread)
    stored = await thread.load()
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "assistant", "user", "assistant"]
    assert stored[2]["content"] == "Shipped."
    assert second.output == "You are welcome."
    assert len(model.requests[3]["messages"]) == 6  # system + the thread so far: no sub-run items


async def test_record_then_replay(tmp_path: Path) -> None:
    path = tmp_path / "agent_tool.yaml"
    script = [reply(tool_calls=[ask]), reply("Shipped."), reply("It shipped.")]
    agent = parent(researcher.as_tool())
    with ScriptedModel(script).install(), cassette(path, record="once"):
        recorded = await agent.run("Where is A-1?", deps=Shop("T"))
    with cassette(path) as used:  # leaving it checks that every recorded request was played
        replayed = await agent.run("Where is A-1?", deps=Shop("T"))
        assert len(used.turns) == 3  # the parent's two requests and the sub-agent's one
    assert recorded.output == replayed.output == "It shipped."

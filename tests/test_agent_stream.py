"""Streaming, the Responses API, structured output and the run deadline."""

from __future__ import annotations

import asyncio
from typing import Any

import pydantic
import pytest

from agentkit import Agent, tool
from agentkit.events import FinalResult, TextDelta, ToolCallResult, ToolCallStarted, TurnFinished
from agentkit.exceptions import OutputValidationError, RunTimeout
from agentkit.testing import ScriptedModel, reply, tool_call


@tool
def get_weather(city: str) -> str:
    """Get the weather.

    Args:
        city: The city name.
    """
    return f"sunny in {city}"


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_stream_events(api: str) -> None:
    model = ScriptedModel(
        [
            reply(
                tool_calls=[
                    tool_call("get_weather", {"city": "Paris"}, id="c1"),
                    tool_call("get_weather", {"city": "Tokyo"}, id="c2"),
                ],
                usage=(11, 3),
            ),
            reply("Both sunny today.", usage=(20, 4)),
        ]
    )
    agent = Agent(tools=[get_weather], client=model.client(), api=api)  # type: ignore[arg-type]
    events = [e async for e in agent.run_stream("Weather?")]
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [(e.tool_call_id, e.name, e.arguments) for e in started] == [
        ("c1", "get_weather", {"city": "Paris"}),
        ("c2", "get_weather", {"city": "Tokyo"}),
    ]
    results = [e for e in events if isinstance(e, ToolCallResult)]
    assert [(e.tool_call_id, e.content, e.is_error) for e in results] == [
        ("c1", "sunny in Paris", False),
        ("c2", "sunny in Tokyo", False),
    ]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "Both sunny today."
    turns = [e for e in events if isinstance(e, TurnFinished)]
    assert [t.turn for t in turns] == [1, 2]
    assert turns[-1].total_usage.input_tokens == 31 and turns[-1].total_usage.output_tokens == 7
    final = events[-1]
    assert isinstance(final, FinalResult)
    assert final.result.output == "Both sunny today."
    assert all(r.get("stream") is True for r in model.requests)
    if api == "chat":
        assert model.requests[0]["stream_options"] == {"include_usage": True}


async def test_responses_api_round_trip() -> None:
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("get_weather", {"city": "Paris"}, id="call_a")]),
            reply("Sunny."),
        ]
    )
    agent = Agent(tools=[get_weather], client=model.client(), api="responses", instructions="Be brief.")
    result = await agent.run("Weather in Paris?")
    assert result.output == "Sunny."
    second = model.requests[1]
    assert second["instructions"] == "Be brief."
    kinds = [item.get("type", item.get("role")) for item in second["input"]]
    assert kinds == ["user", "function_call", "function_call_output"]
    assert second["input"][2] == {
        "type": "function_call_output",
        "call_id": "call_a",
        "output": "sunny in Paris",
    }
    assert second["tools"][0]["name"] == "get_weather"


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_structured_output(api: str) -> None:
    model = ScriptedModel([reply('{"city": "Paris", "celsius": 21}')])
    agent = Agent(client=model.client(), output_type=Weather, api=api)  # type: ignore[arg-type]
    result = await agent.run("Paris?")
    assert result.output == Weather(city="Paris", celsius=21)
    request = model.requests[0]
    if api == "chat":
        fmt = request["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
        assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    else:
        assert request["text"]["format"]["strict"] is True


async def test_structured_output_is_retried_once_then_raises() -> None:
    model = ScriptedModel([reply('{"city": "Paris"}'), reply('{"city": "Paris", "celsius": 20}')])
    result = await Agent(client=model.client(), output_type=Weather).run("Paris?")
    assert result.output.celsius == 20
    assert "celsius" in model.requests[1]["messages"][-1]["content"]

    model = ScriptedModel([reply("not json"), reply("still not")])
    with pytest.raises(OutputValidationError) as info:
        await Agent(client=model.client(), output_type=Weather).run("Paris?")
    assert len(info.value.messages) == 4


async def test_run_deadline_closes_open_calls() -> None:
    @tool
    async def slow() -> str:
        """Take a long time."""
        await asyncio.sleep(30)
        return "late"

    model = ScriptedModel([reply(tool_calls=[tool_call("slow", {}, id="s1")])])
    with pytest.raises(RunTimeout) as info:
        await Agent(tools=[slow], client=model.client(), run_timeout=0.2).run("go")
    messages: list[dict[str, Any]] = info.value.messages
    assert messages[-1]["tool_call_id"] == "s1" and "deadline" in messages[-1]["content"]
    assert info.value.usage.requests == 1


async def test_deadline_keeps_finished_results_and_journals_the_rest() -> None:
    from agentkit.sessions import MemorySession

    @tool
    async def quick() -> str:
        """Finish at once."""
        return "done quickly"

    @tool
    async def slow() -> str:
        """Take a long time."""
        await asyncio.sleep(30)
        return "late"

    session = MemorySession("deadline")
    model = ScriptedModel([reply(tool_calls=[tool_call("quick", {}, id="q"), tool_call("slow", {}, id="s")])])
    agent = Agent(tools=[quick, slow], client=model.client(), run_timeout=0.3)
    with pytest.raises(RunTimeout) as info:
        await agent.run("go", session=session)
    results = {m["tool_call_id"]: m["content"] for m in info.value.messages if m.get("role") == "tool"}
    assert results["q"] == "done quickly"
    assert "deadline" in results["s"]
    stored = {m["tool_call_id"]: m["content"] for m in await session.load() if m.get("role") == "tool"}
    assert stored == results

    # The next run finds nothing to repair.
    follow = await Agent(tools=[quick, slow], client=ScriptedModel([reply("ok")]).client()).run(
        "again", session=session
    )
    assert follow.interrupted_tool_calls == []


async def test_breaking_out_of_a_stream_releases_the_session() -> None:
    from agentkit.sessions import MemorySession

    session = MemorySession("b")
    model = ScriptedModel([reply("hello world " * 5), reply("second")])
    agent = Agent(client=model.client())
    async for event in agent.run_stream("hi", session=session):
        if isinstance(event, TextDelta):
            break
    # No aclose(): the next run on the thread must not be refused.
    result = await agent.run("again", session=session)
    assert result.output == "second"

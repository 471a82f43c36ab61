"""Types of the public API, checked by mypy --strict (``mypy tests/typing`` in CI; the test suite
runs it too). ``assert_type`` fails the check when an inferred type drifts."""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass

import pydantic
from typing_extensions import assert_type

from agentkit import Agent, PendingToolCall, RunContext, RunResult, ToolCall, ToolDecision, Usage, tool
from agentkit.events import FinalResult, RunPaused, StreamEvent, TextDelta, ToolCallResult, ToolCallStarted
from agentkit.guardrails import moderation
from agentkit.hooks import Hooks


class Weather(pydantic.BaseModel):
    city: str
    celsius: float


@dataclass
class Deps:
    user: str


@tool
def get_weather(city: str) -> str:
    """Get the weather.

    Args:
        city: The city.
    """
    return f"sunny in {city}"


@tool
def whoami(ctx: RunContext[Deps]) -> str:
    """Say who is asking."""
    return ctx.deps.user


async def check_agents() -> None:
    plain = Agent(model="gpt-4o-mini", instructions="Be brief.", tools=[get_weather])
    assert_type(plain, Agent[None, str])
    result = await plain.run("hi")
    assert_type(result, RunResult[str])
    assert_type(result.output, str)
    assert_type(result.usage, Usage)
    assert_type(result.interrupted_tool_calls, list[ToolCall])
    assert_type(result.pending_tool_calls, list[PendingToolCall])
    if result.pending_tool_calls:
        decision = result.pending_tool_calls[0].approve()
        assert_type(decision, ToolDecision)
        resumed = await plain.run(messages=result.messages, decisions=[decision])
        assert_type(resumed.output, str)

    typed = Agent(output_type=Weather)
    assert_type(typed, Agent[None, Weather])
    assert_type((await typed.run("weather?")).output, Weather)
    assert_type(typed.run_sync("weather?").output, Weather)

    with_deps = Agent(deps_type=Deps, tools=[whoami])
    assert_type(with_deps, Agent[Deps, str])
    assert_type((await with_deps.run("who", deps=Deps("ada"))).output, str)

    both = Agent(deps_type=Deps, output_type=Weather)
    assert_type(both, Agent[Deps, Weather])

    hooked = Agent(hooks=Hooks(before_run=lambda ctx: None), input_guardrails=[moderation()])
    assert_type(hooked, Agent[None, str])

    clone = typed.clone(model="gpt-4o")
    assert_type(clone, Agent[None, Weather])

    async with plain as same:
        assert_type(same, Agent[None, str])

    async with aclosing(plain.run_stream("hi")) as events:
        async for first in events:
            assert_type(first, StreamEvent)

    async for event in plain.run_stream("hi"):
        assert_type(event, StreamEvent)
        if isinstance(event, TextDelta):
            assert_type(event.text, str)
        elif isinstance(event, (ToolCallStarted, ToolCallResult)):
            assert_type(event.tool_call_id, str)
        elif isinstance(event, RunPaused):
            assert_type(event.pending_tool_calls, list[PendingToolCall])
        elif isinstance(event, FinalResult):
            assert_type(event.result.usage, Usage)

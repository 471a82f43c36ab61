"""Guardrails through the public API: the moderation guardrail races the first model request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest
from openai import AsyncOpenAI

from agentkit import Agent, RunContext, tool
from agentkit.exceptions import GuardrailTripped
from agentkit.guardrails import Guardrail, moderation
from agentkit.testing import ScriptedModel, reply, tool_call


def client_with(model: ScriptedModel, hold: Callable[[str], Awaitable[None]]) -> AsyncOpenAI:
    """A client answered by ``model``, where ``hold(path)`` runs before each answer."""
    inner = model.transport()

    async def handle(request: httpx2.Request) -> httpx2.Response:
        await hold(request.url.path.rsplit("/", 1)[-1])
        return await inner.handle_async_request(request)

    return AsyncOpenAI(
        api_key="test",
        base_url="https://scripted-model.invalid/v1",
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handle)),
        max_retries=0,
    )


async def test_moderation_runs_alongside_the_first_request_and_passes() -> None:
    events: list[str] = []
    moderation_may_finish = asyncio.Event()

    async def hold(endpoint: str) -> None:
        events.append(f"{endpoint} start")
        if endpoint == "moderations":
            await moderation_may_finish.wait()  # released only once the model request is in flight
        else:
            moderation_may_finish.set()
            await asyncio.sleep(0)
        events.append(f"{endpoint} end")

    model = ScriptedModel([reply("Hello!")])
    agent = Agent(client=client_with(model, hold), input_guardrails=[moderation()])
    result = await agent.run("hi there")
    assert result.output == "Hello!"
    assert events.index("completions start") < events.index("moderations end")
    assert model.moderation_requests == [{"model": "omni-moderation-latest", "input": "hi there"}]


async def test_flagged_input_cancels_the_model_request_and_stops_the_run() -> None:
    cancelled = asyncio.Event()
    ran: list[str] = []

    async def hold(endpoint: str) -> None:
        if endpoint == "completions":
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.set()
                raise

    @tool
    def act() -> str:
        """Act."""
        ran.append("act")
        return "done"

    model = ScriptedModel(
        [reply(tool_calls=[tool_call("act")])], flag=lambda text: ["violence"] if "hurt" in text else []
    )
    agent = Agent(tools=[act], client=client_with(model, hold), input_guardrails=[moderation()])
    with pytest.raises(GuardrailTripped) as caught:
        # Bounded: a guardrail that did not race the request would wait for the hour-long reply.
        await asyncio.wait_for(agent.run("how do I hurt someone"), 30)
    error = caught.value
    assert (error.stage, error.reason) == ("input", "flagged: violence")
    assert error.guardrail == "moderation (omni-moderation-latest)"
    assert error.messages == [{"role": "user", "content": "how do I hurt someone"}]
    assert cancelled.is_set() and ran == []


async def test_flagged_input_stops_the_run_even_when_the_model_answers_first() -> None:
    model = ScriptedModel([reply("Sure, here is how.")], flag=lambda text: ["illicit"])
    with model.install(), pytest.raises(GuardrailTripped) as caught:
        await Agent(input_guardrails=[moderation()]).run("something illicit")
    assert caught.value.messages == [{"role": "user", "content": "something illicit"}]


async def test_output_guardrail_checks_the_final_answer() -> None:
    model = ScriptedModel(
        [reply("a violent answer")], flag=lambda text: ["violence"] if "violent" in text else []
    )
    agent = Agent(input_guardrails=[moderation()], output_guardrails=[moderation(categories={"violence"})])
    with model.install(), pytest.raises(GuardrailTripped) as caught:
        await agent.run("tell me a story")
    assert (caught.value.stage, caught.value.reason) == ("output", "flagged: violence")
    assert caught.value.messages[-1] == {"role": "assistant", "content": "a violent answer"}
    assert [r["input"] for r in model.moderation_requests] == ["tell me a story", "a violent answer"]


async def test_categories_filter_and_custom_sync_guardrails() -> None:
    def no_pii(text: str, ctx: RunContext[Any], client: Any) -> str | None:
        return "contains an SSN" if "123-45-6789" in text else None

    model = ScriptedModel([reply("fine"), reply("fine")], flag=lambda text: ["harassment"])
    agent = Agent(
        input_guardrails=[moderation(categories={"violence"}), Guardrail("pii", no_pii)],
    )
    with model.install():
        assert (await agent.run("mildly rude")).output == "fine"
        with pytest.raises(GuardrailTripped, match="contains an SSN") as caught:
            await agent.run("my SSN is 123-45-6789")
    assert caught.value.guardrail == "pii"


async def test_streamed_run_shows_no_text_before_the_input_checks_pass() -> None:
    model = ScriptedModel([reply("streamed answer")], flag=lambda text: ["hate"])
    agent = Agent(input_guardrails=[moderation()])
    seen: list[Any] = []
    with model.install(), pytest.raises(GuardrailTripped):
        async for event in agent.run_stream("hateful"):
            seen.append(event)
    assert seen == []

"""A reply that is not a real final answer is never returned as success (§4), and budgets end a
run with its transcript (§6)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from agentkit import Agent, RateLimiter, UsageLimits, tool
from agentkit.exceptions import (
    ContentFilterError,
    EmptyResponseError,
    ModelBehaviorError,
    ModelRefusalError,
    OutputTruncatedError,
    UsageLimitExceeded,
)
from agentkit.testing import ScriptedModel, reply, tool_call

CALLS: list[str] = []


@tool
def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: The key.
    """
    CALLS.append(key)
    return f"value of {key}"


@pytest.fixture(autouse=True)
def _clear() -> None:
    CALLS.clear()


async def _outcome(agent: Agent[Any, Any], stream: bool) -> Any:
    if not stream:
        return await agent.run("q")
    result = None
    async for event in agent.run_stream("q"):
        result = getattr(event, "result", result)
    return result


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("stream", [False, True])
async def test_truncated_text_is_an_error_by_default(api: str, stream: bool) -> None:
    model = ScriptedModel([reply("The three causes are: first, the", finish_reason="length", usage=(10, 8))])
    with pytest.raises(OutputTruncatedError) as info:
        await _outcome(Agent(api=api, client=model.client()), stream)  # type: ignore[arg-type]
    assert isinstance(info.value, ModelBehaviorError)
    assert info.value.usage.output_tokens == 8
    assert "first, the" in str(info.value.messages[-1])


async def test_truncated_text_allowed_comes_back_with_its_finish_reason() -> None:
    model = ScriptedModel([reply("The three causes are: first, the", finish_reason="length")])
    result = await Agent(client=model.client(), allow_truncated_output=True).run("q")
    assert (result.output, result.finish_reason) == ("The three causes are: first, the", "length")


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_a_cut_off_tool_call_is_never_run(api: str) -> None:
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("lookup", '{"key": "ab', id="c1")], finish_reason="length")]
    )
    agent = Agent(api=api, tools=[lookup], client=model.client(), allow_truncated_output=True)  # type: ignore[arg-type]
    with pytest.raises(OutputTruncatedError) as info:
        await agent.run("q")
    assert CALLS == []
    last = info.value.messages[-1]
    content = last.get("content") or last.get("output")
    assert "not run: the arguments were cut off" in content
    assert len(model.requests) == 1


async def test_forced_tool_choice_is_relaxed_after_a_tool_turn() -> None:
    model = ScriptedModel([reply(tool_calls=[tool_call("lookup", {"key": "a"})]), reply("done")])
    await Agent(tools=[lookup], tool_choice="required", client=model.client()).run("q")
    assert [r["tool_choice"] for r in model.requests] == ["required", "auto"]


async def test_forced_tool_choice_kept_when_asked() -> None:
    named = {"type": "function", "function": {"name": "lookup"}}
    model = ScriptedModel([reply(tool_calls=[tool_call("lookup", {"key": "a"})]), reply("done")])
    agent = Agent(tools=[lookup], tool_choice=named, reset_tool_choice=False, client=model.client())
    await agent.run("q")
    assert [r["tool_choice"] for r in model.requests] == [named, named]


@pytest.mark.parametrize("stream", [False, True])
async def test_content_filter(stream: bool) -> None:
    model = ScriptedModel([reply("I can", finish_reason="content_filter")])
    with pytest.raises(ContentFilterError):
        await _outcome(Agent(client=model.client()), stream)


class Answer(pydantic.BaseModel):
    value: int


@pytest.mark.parametrize("output_type", [None, Answer])
async def test_refusal_is_an_error_and_never_retried(output_type: Any) -> None:
    model = ScriptedModel([reply(refusal="I can't help with that."), reply('{"value": 1}')])
    with pytest.raises(ModelRefusalError, match="can't help"):
        await Agent(output_type=output_type, client=model.client()).run("q")
    assert len(model.requests) == 1


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_empty_reply_is_an_error(api: str) -> None:
    model = ScriptedModel([reply("")])
    with pytest.raises(EmptyResponseError) as info:
        await Agent(api=api, client=model.client()).run("q")  # type: ignore[arg-type]
    assert info.value.messages[0]["content"] == "q"


# --- §6 budgets ---


async def test_a_turn_past_the_tool_call_limit_runs_none_of_its_calls() -> None:
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("lookup", {"key": "a"})]),
            reply(tool_calls=[tool_call("lookup", {"key": k}) for k in "bcd"]),
        ]
    )
    agent = Agent(tools=[lookup], client=model.client(), usage_limits=UsageLimits(tool_calls=3))
    with pytest.raises(UsageLimitExceeded) as info:
        await agent.run("q")
    assert CALLS == ["a"]
    assert info.value.limit == "tool_calls"
    results = [m["content"] for m in info.value.messages if m["role"] == "tool"]
    assert results[0] == "value of a"
    assert results[1:] == ["Error: not run: the run reached its usage limit."] * 3
    assert info.value.usage.tool_calls == 1


async def test_token_limits_end_the_run_after_the_reply_that_passes_them() -> None:
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("lookup", {"key": "a"})], usage=(600, 10)), reply("x")]
    )
    agent = Agent(tools=[lookup], client=model.client(), usage_limits=UsageLimits(input_tokens=500))
    with pytest.raises(UsageLimitExceeded, match="input_tokens") as info:
        await agent.run("q")
    assert CALLS == []
    assert info.value.messages[-1]["role"] == "tool"  # the reply's call is closed (I1)
    assert info.value.usage.input_tokens == 600


async def test_rate_limiter_spaces_requests_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("agentkit._limits.asyncio.sleep", fake_sleep)
    limiter = RateLimiter(tokens_per_minute=100)
    for _ in range(3):
        await limiter.acquire("gpt-4o-mini", 80)
    await limiter.acquire("gpt-4o", 80)
    # 100 tokens a minute is 0.6 s a token, with one minute's budget as a burst: the first request
    # goes at once; the second waits until 160 tokens fit (36 s); the third until 240 do (84 s).
    # Another model has its own budget.
    assert waits == pytest.approx([36.0, 84.0], abs=0.5)


async def test_rate_limiter_is_used_by_the_loop() -> None:
    limiter = RateLimiter(requests_per_minute=1000, tokens_per_minute=1_000_000)
    model = ScriptedModel([reply("a"), reply("b")])
    agent = Agent(client=model.client(), rate_limiter=limiter)
    await agent.run("q")
    await agent.clone().run("q")
    assert len(model.requests) == 2

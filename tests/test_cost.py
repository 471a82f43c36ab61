"""``result.usage.cost_usd``: every reply priced from the model table, through the public API."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from agentkit import Agent, UsageLimits, tool
from agentkit._cli import main
from agentkit.events import FinalResult, TurnFinished
from agentkit.exceptions import UsageLimitExceeded
from agentkit.models import ModelInfo, register_model, reset_models
from agentkit.testing import ScriptedModel, reply, tool_call


@tool
def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: The key.
    """
    return f"value of {key}"


@pytest.fixture(autouse=True)
def _shipped_table() -> Any:
    yield
    reset_models()


def _script() -> list[Any]:
    return [
        reply(tool_calls=[tool_call("lookup", {"key": "a"})], usage=(1000, 200, 400)),
        reply("done", usage=(1500, 100)),
    ]


# gpt-4o: $2.50 input, $1.25 cached input, $10.00 output per 1M tokens (the shipped table).
TURN_1 = (600 * 2.50 + 400 * 1.25 + 200 * 10.00) / 1e6
TURN_2 = (1500 * 2.50 + 100 * 10.00) / 1e6


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_cost_is_summed_over_turns_with_cached_input_priced_as_such(api: Any) -> None:
    model = ScriptedModel(_script())
    agent = Agent("gpt-4o-2024-08-06", tools=[lookup], api=api, client=model.client())
    result = await agent.run("go")
    assert result.usage.cached_tokens == 400
    assert result.usage.cost_usd == pytest.approx(TURN_1 + TURN_2)


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_streamed_turns_carry_their_cost(api: Any) -> None:
    model = ScriptedModel(_script())
    agent = Agent("gpt-4o", tools=[lookup], api=api, client=model.client())
    events = [e async for e in agent.run_stream("go")]
    turns = [e for e in events if isinstance(e, TurnFinished)]
    assert [t.usage.cost_usd for t in turns] == [pytest.approx(TURN_1), pytest.approx(TURN_2)]
    assert turns[-1].total_usage.cost_usd == pytest.approx(TURN_1 + TURN_2)
    final = events[-1]
    assert isinstance(final, FinalResult)
    assert final.result.usage.cost_usd == pytest.approx(TURN_1 + TURN_2)


async def test_fine_tuned_names_are_priced_at_fine_tuned_prices() -> None:
    model = ScriptedModel([reply("hi", usage=(1_000_000, 1_000_000))])
    agent = Agent("ft:gpt-4o-mini-2024-07-18:acme:support:abc123", client=model.client())
    result = await agent.run("go")
    assert result.usage.cost_usd == pytest.approx(0.30 + 1.20)


async def test_unknown_model_costs_none_not_zero() -> None:
    model = ScriptedModel(_script())
    agent = Agent("my-vllm-model", tools=[lookup], client=model.client())
    result = await agent.run("go")
    assert result.usage.input_tokens == 2500
    assert result.usage.cost_usd is None


async def test_a_model_registered_later_is_priced_from_the_next_run() -> None:
    model = ScriptedModel([reply("a", usage=(1_000_000, 0)), reply("b", usage=(1_000_000, 0))])
    agent = Agent("my-vllm-model", client=model.client())
    assert (await agent.run("go")).usage.cost_usd is None
    register_model(ModelInfo("my-vllm-model", 32_000, 4_000, 0.5, None, 1.0, encoding=None))
    assert (await agent.run("go")).usage.cost_usd == pytest.approx(0.5)


async def test_cost_limit_stops_the_run_after_the_reply_that_crosses_it() -> None:
    model = ScriptedModel(_script())
    agent = Agent("gpt-4o", tools=[lookup], client=model.client(), usage_limits=UsageLimits(cost_usd=0.001))
    with pytest.raises(UsageLimitExceeded) as info:
        await agent.run("go")
    assert info.value.limit == "cost_usd"
    assert info.value.usage.cost_usd == pytest.approx(TURN_1)
    assert len(model.requests) == 1


def test_models_live_against_the_scripted_model(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ScriptedModel([], models=["gpt-4o-2024-08-06", "gpt-4.1-nano", "gpt-9-preview"])
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    client = model.sync_client()  # a real openai.OpenAI, built before the CLI's is replaced by it
    monkeypatch.setattr(openai, "OpenAI", lambda **_: client)
    assert main(["models", "--live", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["models"]}
    assert rows["gpt-4o"]["served_as"] == ["gpt-4o-2024-08-06"]
    assert rows["gpt-4.1-nano"]["live"] is True and rows["gpt-5"]["live"] is False
    assert rows["gpt-9-preview"] == {"name": "gpt-9-preview", "known": False, "live": True}
    model.assert_complete()

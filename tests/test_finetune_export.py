"""``export_examples`` and ``preference_pairs``: sessions, results, cassettes -> valid training data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sessions_fixtures import BACKENDS, CHAT, RESPONSES, Backend, backend_options, drop_store

from agentkit import Agent, tool
from agentkit.exceptions import UserError
from agentkit.finetune import export_examples, preference_pairs, read_cassette, validate, write_jsonl
from agentkit.sessions import MemorySession, SQLiteSession
from agentkit.testing import ScriptedModel, reply, tool_call

RECORDINGS = Path(__file__).resolve().parents[1] / ".." / "shared" / "wire-recordings"
SHARED = RECORDINGS if RECORDINGS.is_dir() else Path("/work/shared/wire-recordings")


@tool
def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city's name.
    """
    if city == "Atlantis":
        raise ValueError("no such city")
    return f"sunny in {city}"


def _agent() -> Agent[None, str]:
    return Agent(
        "gpt-4o-mini", instructions="You report the weather.", tools=[get_weather], parallel_tool_calls=True
    )


def _script(city: str, answer: str) -> list[object]:
    return [reply(tool_calls=[tool_call("get_weather", {"city": city}, id=f"call_{city}")]), reply(answer)]


async def test_session_round_trip_validates(tmp_path: Path) -> None:
    agent = _agent()
    script = []
    for i in range(10):
        script += _script(f"City{i}", f"Sunny in City{i}. key sk-abcdefghijklmnopqrstuv{i}")
    model = ScriptedModel(script)
    sessions = [SQLiteSession(f"user-{i}", tmp_path / "s.db") for i in range(10)]
    with model.install():
        for i, session in enumerate(sessions):
            await agent.run(f"Weather in City{i}?", session=session)
    examples = await export_examples(sessions, agent=agent)
    assert len(examples) == 10
    first = examples[0]
    assert first["messages"][0] == {"role": "system", "content": "You report the weather."}
    call = first["messages"][2]["tool_calls"][0]
    assert isinstance(call["function"]["arguments"], str) and json.loads(call["function"]["arguments"]) == {
        "city": "City0"
    }
    assert first["messages"][3]["tool_call_id"] == call["id"]
    assert first["tools"][0]["function"]["name"] == "get_weather" and first["parallel_tool_calls"] is True
    assert "sk-abcdefghijkl" not in json.dumps(examples) and "[REDACTED]" in first["messages"][-1]["content"]
    path = tmp_path / "train.jsonl"
    assert write_jsonl(examples, path) == 10
    report = validate(path)
    assert report.ok and report.problems == [], report.format()


async def test_filters_dedupe_and_weights() -> None:
    agent = _agent()
    model = ScriptedModel(
        [
            *_script("Paris", "Sunny."),
            *_script("Paris", "Sunny."),  # the same conversation again
            reply("No tool needed."),
            reply(tool_calls=[tool_call("get_weather", {"city": "Atlantis"})]),
            *_script("Paris", "Sunny after all."),
        ]
    )
    results = []
    with model.install():
        for prompt in ("Paris?", "Paris?", "Hi", "Atlantis then Paris?"):
            results.append(await agent.run(prompt))
    assert len(await export_examples(results, agent=agent)) == 3
    assert len(await export_examples(results, agent=agent, dedupe=False)) == 4
    assert len(await export_examples(results, agent=agent, with_tool_calls_only=True)) == 2
    weighted = (await export_examples(results[3:], agent=agent, weights="failed_attempts"))[0]
    weights = [m.get("weight") for m in weighted["messages"] if m["role"] == "assistant"]
    assert weights == [0, 1, 1]
    last = (await export_examples(results[3:], agent=agent, weights="last"))[0]
    assert [m.get("weight") for m in last["messages"] if m["role"] == "assistant"] == [0, 0, 1]
    with pytest.raises(UserError):
        await export_examples(results, weights=lambda messages, i: 2)


async def test_unfinished_session_is_filtered_by_successful_only() -> None:
    session = MemorySession("t")
    await session.append(
        [
            {"role": "user", "content": "Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
        ]
    )
    assert len(await export_examples(session)) == 1
    assert await export_examples(session, successful_only=True) == []


async def test_responses_api_results_become_chat_examples() -> None:
    agent = Agent("gpt-4o-mini", api="responses", instructions="Weather.", tools=[get_weather])
    with ScriptedModel(_script("Oslo", "Cold.")).install():
        result = await agent.run("Oslo?")
    (example,) = await export_examples([result], agent=agent)
    roles = [m["role"] for m in example["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    assert example["messages"][2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert example["messages"][-1]["content"] == "Cold."


async def test_bad_source_is_a_user_error() -> None:
    with pytest.raises(UserError, match="Cannot export"):
        await export_examples([42])


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared wire recordings absent")
async def test_cassette_export_keeps_the_recorded_prompt_and_tools() -> None:
    path = SHARED / "simonw-llm__test_tool_use_chain_of_two_calls.yaml"
    (conversation,) = read_cassette(path)
    assert conversation.succeeded and conversation.used_tools and conversation.tools
    (example,) = await export_examples(path)
    names = [tc["function"]["name"] for m in example["messages"] for tc in m.get("tool_calls") or ()]
    assert names == ["lookup_population", "can_have_dragons"]
    assert {t["function"]["name"] for t in example["tools"]} >= set(names)


async def test_broken_cassette_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [{request: 1}]\n")
    with pytest.raises(Exception, match="Cannot read cassette"):
        await export_examples(bad)


async def test_preference_pairs_by_score() -> None:
    agent = _agent()
    model = ScriptedModel([*_script("Paris", "Sunny."), reply("I cannot check the weather.")])
    with model.install():
        good = await agent.run("Paris?")
        bad = await agent.run("Paris?")
    (pair,) = preference_pairs([[bad, good]], score=lambda r: float(r.output == "Sunny."), agent=agent)
    assert pair["input"]["messages"][-1] == {"role": "user", "content": "Paris?"}
    assert pair["preferred_output"][0]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert pair["non_preferred_output"][0]["content"] == "I cannot check the weather."
    assert preference_pairs([[good, good]], score=lambda r: 1.0) == []
    with pytest.raises(UserError, match="at least two"):
        preference_pairs([[good]])


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    kind: str = request.param
    options = backend_options(kind, tmp_path)
    store = Backend(kind, options)
    try:
        yield store
    finally:
        await store.close()
        await drop_store(kind, options)


async def test_every_session_backend_exports_both_wire_formats(backend: Backend) -> None:
    chat, responses = backend.session("chat"), backend.session("responses")
    await chat.append(CHAT)
    await responses.append(RESPONSES)
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    first, second = await export_examples([chat, responses], instructions="Weather.", tools=tools)
    assert [m["role"] for m in first["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
    ]
    assert len(first["messages"][2]["tool_calls"]) == 2
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert second["messages"][-1]["content"] == "Sun."
    assert first["tools"][0]["function"]["name"] == "weather"

"""Real OpenAI recordings replayed through ``agentkit.testing.cassette`` and ``Agent``.

The files in ``../shared/wire-recordings/`` were recorded by other projects against
api.openai.com (see its SOURCES.md); they are read in place, never copied. Their requests used
those projects' prompts and tool schemas, which our agent cannot reproduce byte for byte, so
these tests use ``match="sequence"``: each request must go to the recorded endpoint, in the
recorded order, and gets the recorded reply. What is proven is the reply side: our agent parses
each real reply (whole and streamed, Chat Completions and Responses), calls the recorded tools
with the recorded arguments, and ends with the recorded answer or the documented error. Every
interaction in a file must be played, or the cassette fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import openai
import pytest

from agentkit import Agent, tool
from agentkit.exceptions import MaxTurnsExceeded
from agentkit.testing import Cassette, cassette

WIRE = Path(__file__).resolve().parents[2] / "shared" / "wire-recordings"
pytestmark = pytest.mark.skipif(not WIRE.is_dir(), reason="../shared/wire-recordings is not present")


def _key(name: str, arguments: Any) -> str:
    if isinstance(arguments, dict):
        arguments = {k: v for k, v in arguments.items() if v is not None}
    return name + json.dumps(arguments, sort_keys=True)


class Spy:
    """Stands in for the recorded project's tools: logs each call, answers what was recorded."""

    def __init__(self, used: Cassette) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        results = used.tool_results
        self.answers = {
            _key(c.name, c.parsed_arguments()): results.get(c.tool_call_id, "") for c in used.tool_calls
        }

    def __call__(self, name: str, **arguments: Any) -> str:
        self.calls.append((name, {k: v for k, v in arguments.items() if v is not None}))
        return self.answers.get(_key(name, arguments), "(no recorded result)")


SPY: ContextVar[Spy] = ContextVar("SPY")


@tool
def lookup_population(country: str) -> str:
    """Returns the current population of the specified fictional country.

    Args:
        country: As recorded.
    """
    return SPY.get()("lookup_population", country=country)


@tool
def can_have_dragons(population: int) -> str:
    """Returns True if the specified population can have dragons, False otherwise.

    Args:
        population: As recorded.
    """
    return SPY.get()("can_have_dragons", population=population)


@tool
def multiply(a: int, b: int) -> str:
    """Multiply two numbers.

    Args:
        a: As recorded.
        b: As recorded.
    """
    return SPY.get()("multiply", a=a, b=b)


@tool
def get_current_weather(location: str, unit: Literal["celsius", "fahrenheit"] | None = None) -> str:
    """Get the current weather in a given location.

    Args:
        location: As recorded.
        unit: As recorded.
    """
    return SPY.get()("get_current_weather", location=location, unit=unit)


@tool
def secret_retrieval_tool(password: str) -> str:
    """A tool that requires a password to retrieve a secret.

    Args:
        password: As recorded.
    """
    return SPY.get()("secret_retrieval_tool", password=password)


@tool
def parallel_local_search_one(query: str) -> str:
    """Search one.

    Args:
        query: As recorded.
    """
    return SPY.get()("parallel_local_search_one", query=query)


@tool
def parallel_local_search_two(query: str) -> str:
    """Search two.

    Args:
        query: As recorded.
    """
    return SPY.get()("parallel_local_search_two", query=query)


@tool
def parallel_local_search_three(query: str) -> str:
    """Search three.

    Args:
        query: As recorded.
    """
    return SPY.get()("parallel_local_search_three", query=query)


@tool
def failing_tool() -> str:
    """This tool always fails."""
    return SPY.get()("failing_tool")


@tool
def db_lookup(key: str) -> str:
    """Look up a key.

    Args:
        key: As recorded.
    """
    return SPY.get()("db_lookup", key=key)


@tool(name="__mirascope_formatted_output_tool__")
def formatted_output(title: str, author: dict[str, str], rating: int) -> str:
    """Respond with the book.

    Args:
        title: As recorded.
        author: As recorded.
        rating: As recorded.
    """
    return SPY.get()("__mirascope_formatted_output_tool__", title=title, author=author, rating=rating)


TOOLS = [
    lookup_population,
    can_have_dragons,
    multiply,
    get_current_weather,
    secret_retrieval_tool,
    parallel_local_search_one,
    parallel_local_search_two,
    parallel_local_search_three,
    failing_tool,
    db_lookup,
    formatted_output,
]


@pytest.fixture
def replay(request: pytest.FixtureRequest) -> Iterator[tuple[Cassette, Spy]]:
    used = cassette(WIRE / request.param, match="sequence")
    with used:
        spy = Spy(used)
        token = SPY.set(spy)
        try:
            yield used, spy
        finally:
            SPY.reset(token)


def agent_for(used: Cassette, index: int = 0, **options: Any) -> Agent[Any, Any]:
    body = used.turns[index].request
    api: Literal["chat", "responses"] = "responses" if used.turns[index].endpoint == "/responses" else "chat"
    names = {t.get("name") or t["function"]["name"] for t in body.get("tools") or ()}
    return Agent(model=body["model"], api=api, tools=[t for t in TOOLS if t.name in names], **options)


async def run(agent: Agent[Any, Any], text: str, stream: bool, **kwargs: Any) -> Any:
    if not stream:
        return await agent.run(text, **kwargs)
    result = None
    async for event in agent.run_stream(text, **kwargs):
        result = getattr(event, "result", result)
    return result


def recorded_calls(used: Cassette) -> list[tuple[str, Any]]:
    return [(c.name, c.parsed_arguments()) for c in used.tool_calls]


def last_text(used: Cassette) -> str | None:
    return used.turns[-1].text


# --- full conversations: tool calls, then the recorded final answer ---

FULL_RUNS = [
    # (file, streamed, round trips recorded in the file)
    ("simonw-llm__test_tool_use_chain_of_two_calls.yaml", False, 1),
    (
        "crewai__TestOpenAINativeToolCalling.test_openai_parallel_native_tool_calling_test_agent_kickoff.yaml",
        False,
        1,
    ),
    ("otelcontrib__test_chat_completion_tool_calls_with_content.yaml", False, 1),
    ("simonw-llm__test_tool_use_basic.yaml", True, 1),
    ("mirascope__test_call_with_tools__openai_gpt_4o_completions__stream.yaml", True, 3),
    ("mirascope__test_call_with_tools__openai_gpt_4o_responses__sync.yaml", False, 3),
    ("mirascope__test_call_with_tools__openai_gpt_4o_responses__stream.yaml", True, 3),
]


@pytest.mark.parametrize(("replay", "stream", "rounds"), FULL_RUNS, indirect=["replay"])
async def test_full_tool_conversation(replay: tuple[Cassette, Spy], stream: bool, rounds: int) -> None:
    used, spy = replay
    per_round = len(used.turns) // rounds
    for round_ in range(rounds):
        turns = used.turns[round_ * per_round : (round_ + 1) * per_round]
        agent = agent_for(used, round_ * per_round)
        calls_before = len(spy.calls)
        result = await run(agent, "(the recorded prompt)", stream)
        recorded = [(c.name, c.parsed_arguments()) for t in turns for c in t.tool_calls]
        assert spy.calls[calls_before:] == recorded
        assert result.output == turns[-1].text
    assert recorded_calls(used) == spy.calls


@pytest.mark.parametrize("replay", ["crewai__test_native_tool_calling_error_handling.yaml"], indirect=True)
async def test_tool_without_parameters_and_a_continued_run(replay: tuple[Cassette, Spy]) -> None:
    used, spy = replay
    agent = agent_for(used)
    first = await agent.run("Use the failing_tool to do something.")
    assert spy.calls == [("failing_tool", {})]
    assert first.output == used.turns[1].text
    # The recording's third request continues the same history with no new user message.
    second = await agent.run(messages=first.messages)
    assert second.output == used.turns[2].text


@pytest.mark.parametrize(
    "replay",
    [
        "otelcontrib__test_chat_completion_multiple_tools_streaming_with_content.yaml",
        "mirascope__test_structured_output__tool__openai_gpt_4o_completions__sync.yaml",
    ],
    indirect=True,
)
async def test_single_reply_with_tool_calls(replay: tuple[Cassette, Spy]) -> None:
    """These files hold one reply and no follow-up, so the run stops at max_turns=1."""
    used, spy = replay
    agent = agent_for(used, max_turns=1)
    with pytest.raises(MaxTurnsExceeded):
        await run(agent, "(the recorded prompt)", stream=bool(used.turns[0].stream))
    assert spy.calls == recorded_calls(used)


@pytest.mark.parametrize(
    "replay", ["simonw-llm__test_responses_interleaved_reasoning_between_tool_calls.yaml"], indirect=True
)
async def test_reasoning_items_between_tool_calls(replay: tuple[Cassette, Spy]) -> None:
    """Four turns of reasoning + function calls (5 parallel calls last); no final answer was recorded."""
    used, spy = replay
    first = used.turns[0].request
    agent = agent_for(
        used,
        max_turns=4,
        model_settings={k: first[k] for k in ("store", "include", "reasoning") if k in first},
    )
    with pytest.raises(MaxTurnsExceeded) as info:
        await agent.run("(the recorded prompt)")
    assert spy.calls == recorded_calls(used)
    assert [c[1]["key"] for c in spy.calls][-5:] == [
        "begin",
        "value",
        "the value 7",
        "Begin with the value 7.",
        "start2",
    ]
    # Reasoning items went back to the API with their encrypted content, as recorded.
    assert sum(1 for item in info.value.messages if item.get("type") == "reasoning") == 4


@pytest.mark.parametrize("replay", ["mirascope__ops_llm__test_model_call_with_tools.yaml"], indirect=True)
async def test_invalid_tool_schema_400_on_responses(replay: tuple[Cassette, Spy]) -> None:
    used, spy = replay
    with pytest.raises(MaxTurnsExceeded):
        await agent_for(used, max_turns=1).run("(the recorded prompt)")
    with pytest.raises(openai.BadRequestError) as info:
        await agent_for(used, 1).run("(the recorded prompt)")
    assert info.value.status_code == 400
    assert info.value.code == "invalid_function_parameters"
    assert info.value.param == "tools[0].parameters"
    with pytest.raises(MaxTurnsExceeded):
        await agent_for(used, 2, max_turns=1).run("(the recorded prompt)")
    assert spy.calls == recorded_calls(used)
    assert spy.calls[-1] == ("get_current_weather", {"location": "San Francisco", "unit": "fahrenheit"})


@pytest.mark.parametrize(
    ("replay", "error", "code"),
    [
        (
            "mirascope__test_authentication_error__openai_gpt_4o_completions.yaml",
            openai.AuthenticationError,
            "invalid_api_key",
        ),
        ("otelcontrib__test_chat_completion_404.yaml", openai.NotFoundError, "model_not_found"),
    ],
    indirect=["replay"],
)
async def test_error_recordings_surface_as_sdk_errors(
    replay: tuple[Cassette, Spy], error: type[openai.APIStatusError], code: str
) -> None:
    used, _ = replay
    with pytest.raises(error) as info:
        await agent_for(used).run("Say this is a test")
    assert info.value.code == code
    assert info.value.request_id and info.value.request_id.startswith("req_")


@pytest.mark.parametrize("replay", ["simonw-llm__test_tool_use_chain_of_two_calls.yaml"], indirect=True)
async def test_whole_run_replay_without_running_tools(replay: tuple[Cassette, Spy]) -> None:
    """``recorded_tools`` answers every call from the recording; no tool function runs."""
    used, spy = replay
    agent = agent_for(used)
    with used.recorded_tools(agent) as answered:
        result = await agent.run("Can the country of Crumpet have dragons? Answer with only YES or NO")
    assert result.output == "YES"
    assert spy.calls == []
    assert [(c.name, json.loads(c.arguments)) for c in answered] == recorded_calls(used)
    used.assert_trajectory(result.messages)

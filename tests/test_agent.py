"""The agent loop through the public API, driven by the scripted model."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import openai
import pydantic
import pytest

from agentkit import Agent, RunContext, ToolRetry, tool
from agentkit.exceptions import (
    ConfigurationError,
    MaxTurnsExceeded,
    SyncInAsyncError,
    ToolBudgetExceeded,
    ToolExecutionError,
)
from agentkit.testing import ScriptedModel, api_error, reply, tool_call


@tool
def get_weather(city: str) -> str:
    """Get the weather.

    Args:
        city: The city name.
    """
    return f"sunny in {city}"


@tool
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


def tool_results(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["tool_call_id"], m["content"]) for m in messages if m.get("role") == "tool"]


async def test_parallel_calls_results_in_call_order() -> None:
    model = ScriptedModel(
        [
            reply(
                "Let me check both.",
                tool_calls=[
                    tool_call("get_weather", {"city": "Paris"}, id="c1"),
                    tool_call("get_weather", {"city": "Tokyo"}, id="c2"),
                ],
            ),
            reply("Paris and Tokyo are sunny.", usage=(30, 7)),
        ]
    )
    agent = Agent("gpt-4o-mini", instructions="Be brief.", tools=[get_weather], client=model.client())
    result = await agent.run("Weather in Paris and Tokyo?")
    assert result.output == "Paris and Tokyo are sunny."
    roles = [m["role"] for m in result.messages]
    assert roles == ["user", "assistant", "tool", "tool", "assistant"]
    # Text that came with the tool calls stays in the history.
    assert result.messages[1]["content"] == "Let me check both."
    assert [c["id"] for c in result.messages[1]["tool_calls"]] == ["c1", "c2"]
    assert tool_results(result.messages) == [("c1", "sunny in Paris"), ("c2", "sunny in Tokyo")]
    # The second request carries the instructions, the tools and every result.
    second = model.requests[1]
    assert second["messages"][0] == {"role": "system", "content": "Be brief."}
    assert second["tools"][0]["function"]["name"] == "get_weather"
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool", "tool"]
    assert result.usage.requests == 2
    assert result.usage.input_tokens >= 30
    model.assert_complete()


async def test_async_tools_really_run_concurrently() -> None:
    arrived = 0
    both = asyncio.Event()

    @tool
    async def rendezvous(name: str) -> str:
        """Wait for the sibling call.

        Args:
            name: Caller name.
        """
        nonlocal arrived
        arrived += 1
        if arrived == 2:
            both.set()
        # Sequential execution would never see both calls arrive.
        await asyncio.wait_for(both.wait(), 5)
        return name

    model = ScriptedModel(
        [
            reply(
                tool_calls=[tool_call("rendezvous", {"name": "a"}), tool_call("rendezvous", {"name": "b"})]
            ),
            reply("done"),
        ]
    )
    result = await Agent(tools=[rendezvous], client=model.client()).run("go")
    assert [c for _, c in tool_results(result.messages)] == ["a", "b"]


async def test_sync_tools_run_concurrently_on_the_pool() -> None:
    barrier = threading.Barrier(3, timeout=5)
    threads: set[str] = set()

    @tool
    def blocking(n: int) -> int:
        """Block until all siblings arrive.

        Args:
            n: A number.
        """
        threads.add(threading.current_thread().name)
        barrier.wait()
        return n * 2

    calls = [tool_call("blocking", {"n": i}) for i in range(3)]
    model = ScriptedModel([reply(tool_calls=calls), reply("ok")])
    result = await Agent(tools=[blocking], client=model.client(), tool_threads=4).run("go")
    assert [c for _, c in tool_results(result.messages)] == ["0", "2", "4"]
    assert len(threads) == 3 and all(t.startswith("agentkit-") for t in threads)


async def test_tool_calls_with_finish_reason_stop_still_run() -> None:
    # A forced tool_choice returns finish_reason "stop" together with tool calls.
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("add", {"a": 2, "b": 3})], finish_reason="stop"), reply("5")]
    )
    agent = Agent(
        tools=[add], client=model.client(), tool_choice={"type": "function", "function": {"name": "add"}}
    )
    result = await agent.run("2+3")
    assert tool_results(result.messages)[0][1] == "5"
    assert model.requests[0]["tool_choice"] == {"type": "function", "function": {"name": "add"}}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ('{"a": 1, "b": ', "JSON"),
        ("[1, 2]", "object"),
        ('{"a": "x", "b": 2}', "a"),
        ('{"a": 1, "b": 2, "c": 3}', "c"),
        ('{"a": 1}', "b"),
    ],
    ids=["invalid-json", "not-an-object", "wrong-type", "unknown-field", "missing-field"],
)
async def test_bad_arguments_go_back_to_the_model(arguments: str, expected: str) -> None:
    executed = []

    @tool
    def add2(a: int, b: int) -> int:
        """Add.

        Args:
            a: First.
            b: Second.
        """
        executed.append((a, b))
        return a + b

    model = ScriptedModel([reply(tool_calls=[tool_call("add2", arguments, id="bad")]), reply("sorry")])
    result = await Agent(tools=[add2], client=model.client()).run("add")
    assert executed == []
    ((call_id, content),) = tool_results(result.messages)
    assert call_id == "bad"
    assert "add2" in content and expected in content


async def test_unknown_tool_lists_available_and_siblings_survive() -> None:
    model = ScriptedModel(
        [
            reply(
                tool_calls=[tool_call("nope", {}, id="x"), tool_call("get_weather", {"city": "Oslo"}, id="y")]
            ),
            reply("ok"),
        ]
    )
    result = await Agent(tools=[get_weather, add], client=model.client()).run("hi")
    (x, xc), (y, yc) = tool_results(result.messages)
    assert (x, y) == ("x", "y")
    assert "Unknown tool 'nope'" in xc and "add, get_weather" in xc
    assert yc == "sunny in Oslo"


async def test_tool_exception_is_reported_without_secrets() -> None:
    @tool
    def leaky() -> str:
        """Fail with a secret in the message."""
        raise RuntimeError("connect failed with api_key=sk-abcdefghijklmnop1234 and Bearer abcdefghijkl")

    model = ScriptedModel(
        [reply(tool_calls=[tool_call("leaky", {}), tool_call("get_weather", {"city": "Rome"})]), reply("ok")]
    )
    result = await Agent(tools=[leaky, get_weather], client=model.client()).run("hi")
    (_, error), (_, ok) = tool_results(result.messages)
    assert error.startswith("Error: RuntimeError: connect failed")
    assert "sk-abcdef" not in error and "abcdefghijkl" not in error and "Traceback" not in error
    assert ok == "sunny in Rome"


async def test_raise_tool_errors_keeps_the_transcript() -> None:
    @tool
    def boom() -> str:
        """Always fail."""
        raise ValueError("bad")

    model = ScriptedModel([reply(tool_calls=[tool_call("boom", {}, id="b1")])])
    agent = Agent(tools=[boom], client=model.client(), raise_tool_errors=True)
    with pytest.raises(ToolExecutionError) as info:
        await agent.run("hi")
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.tool_name == "boom"
    assert tool_results(info.value.messages) == [("b1", "Error: ValueError: bad")]


async def test_tool_retry_signal_and_per_tool_budget() -> None:
    attempts = []

    @tool(max_retries=1)
    def picky(word: str) -> str:
        """Accept only 'please'.

        Args:
            word: The magic word.
        """
        attempts.append(word)
        if word != "please":
            raise ToolRetry("Say please.")
        return "thanks"

    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("picky", {"word": "now"})]),
            reply(tool_calls=[tool_call("picky", {"word": "please"})]),
            reply("done"),
        ]
    )
    result = await Agent(tools=[picky], client=model.client()).run("go")
    assert [c for _, c in tool_results(result.messages)] == ["Say please.", "thanks"]

    model = ScriptedModel([reply(tool_calls=[tool_call("picky", {"word": "no"})]) for _ in range(3)])
    with pytest.raises(ToolBudgetExceeded) as info:
        await Agent(tools=[picky], client=model.client()).run("go")
    assert "picky" in str(info.value)
    assert len(tool_results(info.value.messages)) == 2


async def test_run_wide_budget_stops_invented_tool_names() -> None:
    model = ScriptedModel([reply(tool_calls=[tool_call(f"ghost{i}", {})]) for i in range(10)])
    agent = Agent(tools=[add], client=model.client(), max_failed_turns=3)
    with pytest.raises(ToolBudgetExceeded) as info:
        await agent.run("go")
    assert "max_failed_turns=3" in str(info.value)
    assert info.value.usage.requests == 4


async def test_async_tool_timeout_becomes_an_error_result() -> None:
    @tool(timeout=0.05)
    async def slow() -> str:
        """Never finishes in time."""
        await asyncio.sleep(30)
        return "late"

    model = ScriptedModel([reply(tool_calls=[tool_call("slow", {})]), reply("gave up")])
    result = await Agent(tools=[slow], client=model.client()).run("go")
    assert tool_results(result.messages)[0][1] == "Error: tool 'slow' timed out after 0.05 s."


async def test_sync_tool_overrun_is_reported_and_late_result_discarded() -> None:
    release = threading.Event()

    @tool(timeout=0.05)
    def stuck() -> str:
        """Blocks until released."""
        release.wait(5)
        return "late"

    model = ScriptedModel([reply(tool_calls=[tool_call("stuck", {})]), reply("ok")])
    try:
        result = await Agent(tools=[stuck], client=model.client()).run("go")
    finally:
        release.set()
    assert "timed out" in tool_results(result.messages)[0][1]
    assert "late" not in json.dumps(result.messages)


async def test_max_turns_carries_transcript_and_usage() -> None:
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("add", {"a": i, "b": 1})], usage=(10, 2)) for i in range(3)]
    )
    with pytest.raises(MaxTurnsExceeded) as info:
        await Agent(tools=[add], client=model.client(), max_turns=3).run("loop")
    assert info.value.usage.requests == 3
    assert info.value.usage.input_tokens == 30
    assert len(tool_results(info.value.messages)) == 3


async def test_output_serialization_and_truncation() -> None:
    class Point(pydantic.BaseModel):
        x: int
        y: int

    @dataclass
    class Box:
        label: str
        when: datetime

    @tool
    def shapes(kind: str) -> Any:
        """Return a shape.

        Args:
            kind: Which one.
        """
        values: dict[str, Any] = {
            "model": Point(x=1, y=2),
            "dataclass": Box("b", datetime(2024, 1, 2, tzinfo=timezone.utc)),
            "none": None,
            "set": {3, 1, 2},
            "big": "x" * 500 + "END",
        }
        return values[kind]

    kinds = ["model", "dataclass", "none", "set", "big"]
    model = ScriptedModel([reply(tool_calls=[tool_call("shapes", {"kind": k}) for k in kinds]), reply("ok")])
    result = await Agent(tools=[shapes], client=model.client(), max_tool_output_chars=200).run("go")
    contents = [c for _, c in tool_results(result.messages)]
    assert contents[:4] == ['{"x":1,"y":2}', '{"label":"b","when":"2024-01-02T00:00:00Z"}', "null", "[1,2,3]"]
    big = contents[4]
    assert len(big) <= 200 and big.startswith("xxx") and big.endswith("END") and "omitted" in big


async def test_context_is_injected_and_excluded_from_schema() -> None:
    @dataclass
    class Deps:
        user: str

    seen: list[RunContext[Deps]] = []
    requests_at_call: list[int] = []

    @tool
    def whoami(ctx: RunContext[Deps], greeting: str) -> str:
        """Greet the current user.

        Args:
            greeting: The greeting.
        """
        seen.append(ctx)
        requests_at_call.append(ctx.usage.requests)
        return f"{greeting}, {ctx.deps.user}"

    assert list(whoami.parameters["properties"]) == ["greeting"]
    model = ScriptedModel([reply(tool_calls=[tool_call("whoami", {"greeting": "hi"}, id="w1")]), reply("ok")])
    result = await Agent(tools=[whoami], client=model.client()).run("who", deps=Deps("ada"))
    assert tool_results(result.messages) == [("w1", "hi, ada")]
    assert seen[0].run_id == result.run_id and seen[0].tool_call_id == "w1"
    assert requests_at_call == [1]


async def test_history_continues_a_conversation() -> None:
    model = ScriptedModel([reply("first"), reply("second")])
    agent = Agent(client=model.client())
    first = await agent.run("one")
    second = await agent.run("two", messages=first.messages)
    assert [m["content"] for m in second.messages] == ["one", "first", "two", "second"]
    assert [m["content"] for m in second.new_messages] == ["two", "second"]
    assert [m["content"] for m in model.requests[1]["messages"]] == ["one", "first", "two"]


async def test_api_errors_pass_through_and_4xx_is_never_retried() -> None:
    model = ScriptedModel([api_error(401)])
    with pytest.raises(openai.AuthenticationError) as info:
        await Agent(client=model.client(max_retries=3)).run("hi")
    assert info.value.status_code == 401
    assert len(model.requests) == 1


async def test_rate_limit_is_retried_by_the_sdk() -> None:
    model = ScriptedModel([api_error(429), reply("ok")])
    result = await Agent(client=model.client(max_retries=1)).run("hi")
    assert result.output == "ok" and len(model.requests) == 2


async def test_missing_api_key_is_an_error_at_run_not_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    agent = Agent()
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        await agent.run("hi")


async def test_run_sync_refuses_a_running_loop() -> None:
    with pytest.raises(SyncInAsyncError):
        Agent().run_sync("hi")


def test_run_sync() -> None:
    model = ScriptedModel([reply(tool_calls=[tool_call("add", {"a": 1, "b": 1})]), reply("2")])
    result = Agent(tools=[add], client=model.client()).run_sync("1+1")
    assert result.output == "2"


async def test_one_agent_serves_many_concurrent_runs() -> None:
    def script(request: dict[str, Any]) -> Any:
        messages = request["messages"]
        user = messages[0]["content"]
        if messages[-1]["role"] == "user":
            return reply(tool_calls=[tool_call("add", {"a": int(user), "b": 1})])
        return reply(f"{user}->{messages[-1]['content']}")

    model = ScriptedModel(script)
    agent = Agent(tools=[add], client=model.client())
    results = await asyncio.gather(*(agent.run(str(i)) for i in range(300)))
    assert [r.output for r in results] == [f"{i}->{i + 1}" for i in range(300)]
    assert len({r.run_id for r in results}) == 300


async def test_cancellation_propagates_and_stops_tools() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    @tool
    async def forever() -> str:
        """Run until cancelled."""
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    model = ScriptedModel([reply(tool_calls=[tool_call("forever", {}), tool_call("forever", {})])])
    task = asyncio.ensure_future(Agent(tools=[forever], client=model.client()).run("go"))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled.is_set()


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_requests_carry_auth_settings_and_request_options(api: str) -> None:
    model = ScriptedModel([reply("ok")])
    agent = Agent(
        "gpt-4o-mini",
        client=model.client(),
        api=api,  # type: ignore[arg-type]
        model_settings={
            "temperature": 0,
            "extra_headers": {"x-trace": "t1"},
            "extra_body": {"metadata": {"k": "v"}},
        },
    )
    await agent.run("hi")
    (request,) = model.requests
    assert request.path.endswith("/chat/completions" if api == "chat" else "/responses")
    assert request.headers["authorization"].startswith("Bearer ")
    assert request.headers["x-trace"] == "t1"
    assert request["temperature"] == 0
    assert request["metadata"] == {"k": "v"}
    assert "extra_headers" not in request and "extra_body" not in request
    assert request["model"] == "gpt-4o-mini"


async def test_budgets_count_turns_so_a_bad_batch_is_seen_first() -> None:
    @tool(max_retries=1)
    def flaky(n: int) -> int:
        """Fail on odd numbers.

        Args:
            n: A number.
        """
        if n % 2:
            raise ValueError("odd")
        return n

    # Six failures in one turn: the model still gets to read them and recover.
    model = ScriptedModel([reply(tool_calls=[tool_call("flaky", {"n": i}) for i in range(12)]), reply("ok")])
    result = await Agent(tools=[flaky], client=model.client()).run("go")
    assert result.output == "ok"
    assert sum("odd" in c for _, c in tool_results(result.messages)) == 6

"""History policies (``agentkit.history``) and the context window, through the public API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from agentkit import Agent, tool
from agentkit.exceptions import ConfigurationError, ContextWindowExceeded
from agentkit.history import DEFAULT_SUMMARY_PROMPT, KeepAll, Summarize, Truncate
from agentkit.models import ModelInfo, register_model, reset_models
from agentkit.sessions import SQLiteSession
from agentkit.testing import ScriptedModel, api_error, reply, tool_call
from agentkit.tokens import count_tokens


@tool
def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: The key.
    """
    return f"value of {key} " * 20


@pytest.fixture(autouse=True)
def _shipped_table() -> Any:
    yield
    reset_models()


def words(tag: str, n: int = 40) -> str:
    return " ".join(f"{tag}{i}" for i in range(n))


def conversation(turns: int) -> list[dict[str, Any]]:
    """A task, then ``turns`` exchanges of about 100 tokens each."""
    items: list[dict[str, Any]] = [{"role": "user", "content": "TASK: answer the last question."}]
    for t in range(turns):
        items.append({"role": "assistant", "content": words(f"a{t}_")})
        items.append({"role": "user", "content": words(f"u{t}_")})
    return items


def prompt_tokens(request: dict[str, Any], tools: Any = None) -> int:
    return count_tokens(request["messages"], model="gpt-4o-mini", tools=tools)


async def test_truncate_drops_the_oldest_turns_just_enough_and_keeps_the_task() -> None:
    history = conversation(12)
    model = ScriptedModel([reply("ok")])
    agent = Agent(
        "gpt-4o-mini", instructions="Be brief.", client=model.client(), history=Truncate(max_tokens=600)
    )
    result = await agent.run(messages=history)
    sent = model.requests[0]["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert sent[1] == history[0]  # the task stays
    kept = sent[2:]
    assert kept == history[len(history) - len(kept) :]  # a suffix: the newest turns
    assert prompt_tokens(model.requests[0]) <= 600
    one_more = [*sent[:2], history[len(history) - len(kept) - 1], *kept]
    assert count_tokens(one_more, model="gpt-4o-mini") > 600  # nothing dropped needlessly
    assert result.messages[: len(history)] == history  # what is kept in the run is everything


async def test_keep_first_message_false_may_drop_the_task() -> None:
    history = conversation(12)
    model = ScriptedModel([reply("ok")])
    agent = Agent(client=model.client(), history=Truncate(max_tokens=400, keep_first_message=False))
    await agent.run(messages=history)
    sent = model.requests[0]["messages"]
    assert history[0] not in sent and sent == history[len(history) - len(sent) :]


async def test_a_tool_call_is_never_separated_from_its_results() -> None:
    script = [
        reply(tool_calls=[tool_call("lookup", {"key": f"k{i}a"}), tool_call("lookup", {"key": f"k{i}b"})])
        for i in range(6)
    ] + [reply("done")]
    model = ScriptedModel(script)
    agent = Agent(client=model.client(), tools=[lookup], history=Truncate(max_tokens=700))
    result = await agent.run("TASK: look everything up.")
    # The scripted model answers a request that splits a call from its result with the API's 400,
    # so reaching the final answer means every request kept the pairs whole.
    assert result.output == "done"
    last = model.requests[-1]
    assert prompt_tokens(last, [lookup.to_openai()]) <= 700
    assert last["messages"][0]["content"] == "TASK: look everything up."
    assert last["messages"][1]["role"] == "assistant"  # the cut fell before a whole turn
    assert len(last["messages"]) < len(result.messages)


async def test_the_window_comes_from_the_model_table_minus_the_output_setting() -> None:
    register_model(ModelInfo("tiny", 900, 300, None, None, None, encoding="o200k_base"))
    history = conversation(12)
    model = ScriptedModel([reply("ok"), reply("ok")])
    agent = Agent("tiny", client=model.client(), history=Truncate(), model_settings={"max_tokens": 300})
    await agent.run(messages=history)
    assert 500 < prompt_tokens(model.requests[0]) <= 600
    # Without an output setting the policy's reserve applies.
    await agent.clone(model_settings={}, history=Truncate(reserve_tokens=500)).run(messages=history)
    assert 300 < prompt_tokens(model.requests[1]) <= 400


async def test_an_unknown_model_is_trimmed_only_with_an_explicit_budget() -> None:
    history = conversation(12)
    model = ScriptedModel([reply("ok"), reply("ok")])
    agent = Agent("my-vllm-model", client=model.client(), history=Truncate())
    await agent.run(messages=history)
    assert model.requests[0]["messages"] == history
    await agent.clone(history=Truncate(max_tokens=500)).run(messages=history)
    assert prompt_tokens(model.requests[1]) <= 500  # counted with o200k_base


async def test_what_cannot_fit_ends_the_run_before_any_request() -> None:
    history = conversation(3)
    history[-1]["content"] = words("huge", 2000)
    model = ScriptedModel([])
    agent = Agent(client=model.client(), history=Truncate(max_tokens=1000))
    with pytest.raises(ContextWindowExceeded) as info:
        await agent.run(messages=history)
    assert info.value.limit == 1000 and info.value.tokens is not None and info.value.tokens > 1000
    assert info.value.messages == history
    assert model.requests == []


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize(("history", "stream"), [(KeepAll(), False), (Truncate(), False), (KeepAll(), True)])
async def test_the_apis_context_length_exceeded_becomes_a_typed_error(
    api: Any, history: Any, stream: bool
) -> None:
    message = "This model's maximum context length is 128000 tokens."
    model = ScriptedModel([api_error(400, message=message, code="context_length_exceeded")])
    agent = Agent(client=model.client(), api=api, history=history)
    with pytest.raises(ContextWindowExceeded) as info:
        if stream:
            _ = [event async for event in agent.run_stream("hello")]
        else:
            await agent.run("hello")
    assert isinstance(info.value.__cause__, openai.BadRequestError)
    assert message in str(info.value) and info.value.tokens is None
    assert info.value.messages == [{"role": "user", "content": "hello"}]


async def test_other_bad_requests_pass_through() -> None:
    model = ScriptedModel([api_error(400, message="bad", code="invalid_value")])
    with pytest.raises(openai.BadRequestError):
        await Agent(client=model.client(), history=Truncate()).run("hello")


def summary_script(request: Any) -> Any:
    if request.get("messages", [{}])[0].get("content") == DEFAULT_SUMMARY_PROMPT or (
        request.get("instructions") == DEFAULT_SUMMARY_PROMPT
    ):
        return reply("SUMMARY: the user and the assistant exchanged numbered words.", usage=(1000, 50))
    return reply("ok", usage=(100, 5))


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_summarize_replaces_dropped_turns_in_what_is_sent_only(api: Any, tmp_path: Path) -> None:
    model = ScriptedModel(summary_script)
    agent = Agent(
        "gpt-4o", api=api, client=model.client(), history=Summarize(max_tokens=900, summary_tokens=100)
    )
    session = SQLiteSession("t", tmp_path / "s.sqlite3")
    for t in range(8):
        await agent.run(words(f"turn{t}_", 60), session=session)
    summaries = [r for r in model.requests if (r.get("tools") is None and _mentions_prompt(r))]
    assert summaries, "a summary was requested"
    assert all(not r.get("tools") for r in summaries)
    last = model.requests[-1]
    items = last.get("messages") or last.get("input")
    assert items[0]["content"].startswith("turn0_")  # the task stays
    assert items[1]["content"].startswith("Summary of the earlier conversation")
    assert "SUMMARY: the user" in items[1]["content"]
    assert items[-1]["content"].startswith("turn7_")
    stored = await session.load()
    assert len(stored) == 16  # 8 user messages and 8 answers: nothing was dropped from the thread
    assert not any("SUMMARY" in str(item) for item in stored)


def _mentions_prompt(request: Any) -> bool:
    return DEFAULT_SUMMARY_PROMPT in str(request.get("instructions")) + str(request.get("messages"))


async def test_a_summary_is_reused_until_more_must_go_and_its_cost_counted() -> None:
    model = ScriptedModel(summary_script)
    agent = Agent("gpt-4o", client=model.client(), history=Summarize(max_tokens=900, summary_tokens=100))
    result = await agent.run(messages=conversation(12))
    assert len(model.requests) == 2  # one summary, one turn
    summary_request, turn = model.requests
    assert summary_request["messages"][0] == {"role": "system", "content": DEFAULT_SUMMARY_PROMPT}
    assert "a0_0" in summary_request["messages"][1]["content"]  # the oldest dropped turn
    assert "TASK" not in summary_request["messages"][1]["content"]  # the kept task is not summarised
    assert turn["messages"][0]["content"].startswith("TASK")
    assert turn["messages"][1]["content"].startswith("Summary of the earlier conversation")
    assert result.usage.requests == 2 and result.usage.input_tokens == 1100
    # gpt-4o: $2.50 in, $10 out per 1M tokens, both requests.
    assert result.usage.cost_usd == pytest.approx((1100 * 2.50 + 55 * 10.00) / 1e6)


async def test_summarize_extends_the_previous_summary_within_a_run() -> None:
    script = [reply(tool_calls=[tool_call("lookup", {"key": f"k{i}"})]) for i in range(8)] + [reply("done")]
    turns = iter(script)
    summaries: list[str] = []

    def answer(request: Any) -> Any:
        if request["messages"][0]["content"] == "Summarise.":
            summaries.append(request["messages"][1]["content"])
            return reply(f"S{len(summaries)}")
        return next(turns)

    model = ScriptedModel(answer)
    agent = Agent(
        client=model.client(),
        tools=[lookup],
        history=Summarize(max_tokens=600, summary_tokens=20, prompt="Summarise."),
    )
    result = await agent.run("TASK")
    assert result.output == "done"
    assert len(summaries) >= 2
    assert summaries[1].startswith("Summary of what came before: S1")


async def test_responses_items_are_trimmed_with_reasoning_kept_before_its_call() -> None:
    history: list[dict[str, Any]] = [{"role": "user", "content": "TASK"}]
    for i in range(8):
        history += [
            {
                "type": "reasoning",
                "id": f"rs_{i}",
                "summary": [{"type": "summary_text", "text": words("r", 30)}],
            },
            {"type": "function_call", "call_id": f"c{i}", "name": "lookup", "arguments": '{"key":"x"}'},
            {"type": "function_call_output", "call_id": f"c{i}", "output": words("o", 60)},
        ]
    history.append({"role": "user", "content": "and now?"})
    model = ScriptedModel([reply("ok")])
    # At this budget, a cut that ignored reasoning items would fall between one and its call.
    agent = Agent(client=model.client(), api="responses", history=Truncate(max_tokens=800))
    await agent.run(messages=history)
    sent = model.requests[0]["input"]
    assert sent[0] == history[0] and sent[1]["type"] == "reasoning"
    assert sent[1:] == history[len(history) - len(sent) + 1 :]
    assert len(sent) < len(history)


@pytest.mark.parametrize(
    "history",
    [
        "all",
        Truncate(max_tokens=0),
        Truncate(reserve_tokens=-1),
        Summarize(prompt=" "),
        Summarize(summary_tokens=1.5),
    ],  # type: ignore[arg-type]
)
def test_bad_policies_are_configuration_errors(history: Any) -> None:
    with pytest.raises(ConfigurationError):
        Agent(history=history)


def test_the_policy_is_part_of_the_agent_configuration() -> None:
    agent = Agent(history=Truncate(max_tokens=1000))
    assert agent.history == Truncate(max_tokens=1000)
    assert agent.clone(history=KeepAll()).history == KeepAll()
    assert Agent().history == KeepAll()


async def test_a_summary_too_long_to_fit_ends_the_run() -> None:
    def answer(request: Any) -> Any:
        if request["messages"][0]["content"] == DEFAULT_SUMMARY_PROMPT:
            return reply(words("long", 2000))
        raise AssertionError("the turn must not be sent")

    model = ScriptedModel(answer)
    agent = Agent(client=model.client(), history=Summarize(max_tokens=900, summary_tokens=100))
    with pytest.raises(ContextWindowExceeded) as info:
        await agent.run(messages=conversation(12))
    assert info.value.limit == 900 and info.value.tokens is not None and info.value.tokens > 2000
    assert len(model.requests) == 1 and info.value.usage.requests == 1


@tool(requires_approval=True)
def refund(order: str) -> str:
    """Refund an order.

    Args:
        order: The order id.
    """
    return f"refunded {order} " + words("r", 80)


async def test_a_paused_run_resumes_under_a_window_policy(tmp_path: Path) -> None:
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("refund", {"order": f"o{i}"})]) for i in range(4)] + [reply("done")]
    )
    agent = Agent(client=model.client(), tools=[refund], history=Truncate(max_tokens=400))
    session = SQLiteSession("t", tmp_path / "s.sqlite3")
    result = await agent.run("TASK: refund everything.", session=session)
    while result.pending_tool_calls:
        result = await agent.run(session=session, decisions=[c.approve() for c in result.pending_tool_calls])
    assert result.output == "done"
    stored = [i for i in await session.load() if not str(i.get("type", "")).startswith("agentkit.")]
    assert len(stored) == 10  # the task, 4 calls, 4 results, the answer: nothing dropped
    last = model.requests[-1]["messages"]
    assert last[0]["content"] == "TASK: refund everything." and len(last) < 10
    assert prompt_tokens(model.requests[-1], [refund.to_openai()]) <= 400

"""Loading a thread with dangling tool calls, in both wire formats, through ``Agent.run``."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit import Agent, RunContext, tool
from agentkit.sessions import MemorySession
from agentkit.testing import ScriptedModel, reply

runs: list[tuple[str, str]] = []


@tool(idempotent=True)
def reserve(ctx: RunContext[None], seat: str) -> str:
    """Reserve a seat (safe to repeat with the same key).

    Args:
        seat: The seat number.
    """
    runs.append(("reserve", ctx.idempotency_key))
    return f"reserved {seat}"


@tool
def charge(amount: int) -> str:
    """Charge the card (never repeat).

    Args:
        amount: Cents.
    """
    runs.append(("charge", str(amount)))
    return "charged"


def chat_thread() -> list[dict[str, Any]]:
    calls = [
        {
            "id": "c_charge",
            "type": "function",
            "function": {"name": "charge", "arguments": '{"amount": 500}'},
        },
        {
            "id": "c_reserve",
            "type": "function",
            "function": {"name": "reserve", "arguments": '{"seat": "4A"}'},
        },
        {"id": "c_done", "type": "function", "function": {"name": "charge", "arguments": '{"amount": 1}'}},
    ]
    return [
        {"role": "user", "content": "book it"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        # Only the last call's result was stored before the crash.
        {"role": "tool", "tool_call_id": "c_done", "content": "charged"},
    ]


def responses_thread() -> list[dict[str, Any]]:
    def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
        return {
            "type": "function_call",
            "id": f"fc_{call_id}",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        }

    return [
        {"role": "user", "content": "book it"},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        call("c_charge", "charge", '{"amount": 500}'),
        call("c_reserve", "reserve", '{"seat": "4A"}'),
        call("c_done", "charge", '{"amount": 1}'),
        {"type": "function_call_output", "call_id": "c_done", "output": "charged"},
    ]


def results_in_request(api: str, request: dict[str, Any]) -> list[tuple[str, str]]:
    if api == "chat":
        return [(m["tool_call_id"], m["content"]) for m in request["messages"] if m.get("role") == "tool"]
    return [(i["call_id"], i["output"]) for i in request["input"] if i.get("type") == "function_call_output"]


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_dangling_calls_are_closed_before_the_next_request(api: str) -> None:
    runs.clear()
    session = MemorySession("t1")
    await session.append(chat_thread() if api == "chat" else responses_thread())
    model = ScriptedModel([reply("Booked.")])
    agent = Agent(tools=[reserve, charge], client=model.client(), api=api)  # type: ignore[arg-type]

    result = await agent.run("status?", session=session)

    # The idempotent tool ran again; the non-idempotent one did not.
    assert [name for name, _ in runs] == ["reserve"]
    assert [(c.tool_call_id, c.name) for c in result.interrupted_tool_calls] == [("c_charge", "charge")]
    # The request has exactly one result per call, in the model's call order.
    sent = results_in_request(api, model.requests[0])
    assert [call_id for call_id, _ in sent] == ["c_charge", "c_reserve", "c_done"]
    assert "interrupted" in sent[0][1] and sent[1][1] == "reserved 4A" and sent[2][1] == "charged"

    # The repair was stored: loading again finds nothing to repair and re-runs nothing.
    model2 = ScriptedModel([reply("Still booked.")])
    again = await Agent(tools=[reserve, charge], client=model2.client(), api=api).run(  # type: ignore[arg-type]
        "and now?", session=session
    )
    assert again.interrupted_tool_calls == []
    assert [name for name, _ in runs] == ["reserve"]
    assert results_in_request(api, model2.requests[0]) == sent


async def test_idempotency_key_is_stable_across_reruns() -> None:
    runs.clear()
    keys = []
    for _ in range(2):
        session = MemorySession("t")
        await session.append(chat_thread())
        await Agent(tools=[reserve, charge], client=ScriptedModel([reply("ok")]).client()).run(
            "x", session=session
        )
        keys.append(runs[-1][1])
    assert keys[0] == keys[1] and keys[0]


async def test_reused_call_ids_are_matched_within_their_turn() -> None:
    # Some OpenAI-compatible servers answer "call_0" on every turn.
    runs.clear()

    def turn(amount: int) -> dict[str, Any]:
        fn = {"name": "charge", "arguments": f'{{"amount": {amount}}}'}
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_0", "type": "function", "function": fn}],
        }

    session = MemorySession("dup")
    await session.append(
        [
            {"role": "user", "content": "pay twice"},
            turn(1),
            {"role": "tool", "tool_call_id": "call_0", "content": "charged 1"},
            turn(2),  # the process died before this call's result was stored
        ]
    )
    model = ScriptedModel([reply("ok")])
    result = await Agent(tools=[reserve, charge], client=model.client()).run("status?", session=session)
    sent = results_in_request("chat", model.requests[0])
    assert sent[0] == ("call_0", "charged 1")
    assert "interrupted" in sent[1][1]
    assert [(c.tool_call_id, c.arguments) for c in result.interrupted_tool_calls] == [
        ("call_0", '{"amount": 2}')
    ]
    assert runs == []
    # Loading again repairs nothing more.
    again = await Agent(tools=[reserve, charge], client=ScriptedModel([reply("ok")]).client()).run(
        "x", session=session
    )
    assert again.interrupted_tool_calls == []

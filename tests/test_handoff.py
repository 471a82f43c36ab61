"""Handoffs (``Agent.as_handoff``): the model calls ``transfer_to_<name>`` and the run goes on with
that agent. Driven by the scripted model; one script serves both agents, in request order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

from agentkit import Agent, tool
from agentkit.events import FinalResult, TextDelta, ToolCallResult
from agentkit.exceptions import ConfigurationError
from agentkit.sessions import MemorySession
from agentkit.testing import ScriptedModel, cassette, reply, tool_call


@tool
def refund(order_id: str) -> str:
    """Refund an order.

    Args:
        order_id: The order, e.g. A-1.
    """
    return f"refunded {order_id}"


billing = Agent(name="billing", instructions="Handle refunds.", tools=[refund])
QUESTION = "I want my money back for A-1."


def triage(*handoffs: Any, **options: Any) -> Agent[None, str]:
    return Agent(name="triage", instructions="Route the customer.", tools=handoffs, **options)


SCRIPT = [
    reply(tool_calls=[tool_call("transfer_to_billing")], usage=(10, 2)),
    reply(tool_calls=[tool_call("refund", {"order_id": "A-1"})], usage=(30, 4)),
    reply("Refunded A-1.", usage=(40, 3)),
]


async def test_the_run_continues_with_the_other_agent() -> None:
    model = ScriptedModel(SCRIPT)
    with model.install():
        result = await triage(billing.as_handoff()).run(QUESTION)
    assert (result.output, result.last_agent) == ("Refunded A-1.", "billing")
    assert (result.usage.requests, result.usage.input_tokens) == (3, 80)
    first, second = model.requests[0], model.requests[1]
    assert [t["function"]["name"] for t in first["tools"]] == ["transfer_to_billing"]
    assert first["tools"][0]["function"]["description"] == (
        "Hand the conversation over to the billing agent: Handle refunds."
    )
    assert [t["function"]["name"] for t in second["tools"]] == ["refund"]
    assert second["messages"][0] == {"role": "system", "content": "Handle refunds."}
    assert second["messages"][1:3] == [{"role": "user", "content": QUESTION}, result.messages[1]]
    assert second["messages"][3]["content"] == "Transferred to billing."
    assert [m["role"] for m in result.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]


async def test_a_history_filter_shapes_what_the_next_agent_sees() -> None:
    def only_the_user(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [item for item in items if item.get("role") == "user"]

    model = ScriptedModel(SCRIPT)
    thread = MemorySession("customer-1")
    with model.install():
        result = await triage(billing.as_handoff(history=only_the_user)).run(QUESTION, session=thread)
    assert model.requests[1]["messages"] == [
        {"role": "system", "content": "Handle refunds."},
        {"role": "user", "content": QUESTION},
    ]
    assert [m["role"] for m in result.messages] == ["user", "assistant", "tool", "assistant"]
    # The session keeps the whole thread, transfer included.
    stored = await thread.load()
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "assistant", "tool", "assistant"]


async def test_sessions_continue_with_the_agent_that_answered() -> None:
    thread = MemorySession("customer-2")
    model = ScriptedModel([*SCRIPT, reply("You are welcome.")])
    with model.install():
        first = await triage(billing.as_handoff()).run(QUESTION, session=thread)
        agents = {"triage": triage(billing.as_handoff()), "billing": billing}
        second = await agents[first.last_agent or "triage"].run("Thanks!", session=thread)
    assert second.output == "You are welcome." and second.last_agent is None
    assert model.requests[3]["messages"][0]["content"] == "Handle refunds."
    assert len(model.requests[3]["messages"]) == 1 + 6 + 1


class Refund(pydantic.BaseModel):
    order_id: str
    approved: bool


async def test_the_target_output_type_and_stream() -> None:
    structured = billing.clone(output_type=Refund)
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("transfer_to_billing")]),
            reply('{"order_id": "A-1", "approved": true}'),
        ]
    )
    with model.install():
        events = [e async for e in triage(structured.as_handoff()).run_stream(QUESTION)]
    transfer = next(e for e in events if isinstance(e, ToolCallResult))
    assert (transfer.name, transfer.content, transfer.is_error) == (
        "transfer_to_billing",
        "Transferred to billing.",
        False,
    )
    assert any(isinstance(e, TextDelta) and e.turn == 2 for e in events)
    final = events[-1]
    assert isinstance(final, FinalResult)
    assert final.result.output == Refund(order_id="A-1", approved=True)
    assert final.result.last_agent == "billing"
    assert model.requests[1]["response_format"]["json_schema"]["name"] == "Refund"


async def test_the_first_transfer_of_a_turn_wins() -> None:
    shipping = Agent(name="shipping", instructions="Track parcels.")
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("transfer_to_shipping"), tool_call("transfer_to_billing")]),
            reply("Your parcel is on its way."),
        ]
    )
    with model.install():
        result = await triage(shipping.as_handoff(), billing.as_handoff()).run("Where is my parcel?")
    assert result.last_agent == "shipping"
    assert model.requests[1]["messages"][0]["content"] == "Track parcels."


async def test_record_then_replay(tmp_path: Path) -> None:
    path = tmp_path / "handoff.yaml"
    agent = triage(billing.as_handoff())
    with ScriptedModel(SCRIPT).install(), cassette(path, record="once"):
        recorded = await agent.run(QUESTION)
    with cassette(path) as used:
        replayed = await agent.run(QUESTION)
        assert len(used.turns) == 3
    assert (replayed.output, replayed.last_agent) == (recorded.output, "billing")


async def test_handing_off_across_wire_formats_is_refused() -> None:
    responses_billing = billing.clone(api="responses")
    script = ScriptedModel([reply(tool_calls=[tool_call("transfer_to_billing")])])
    refused = pytest.raises(ConfigurationError, match="Cannot hand off to 'billing': it uses another API")
    with script.install(), refused:
        await triage(responses_billing.as_handoff()).run(QUESTION)

"""Runs that pause at tool calls: approvals and client-executed tools, through the public API."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Literal

import pytest

from agentkit import Agent, PendingToolCall, ToolDecision, client_tool, tool
from agentkit.events import FinalResult, RunPaused, ToolCallResult, ToolCallStarted
from agentkit.exceptions import ToolDecisionError
from agentkit.sessions import MemorySession, SQLiteSession
from agentkit.testing import ScriptedModel, reply, tool_call

ROOT = Path(__file__).resolve().parent.parent


def make_tools() -> tuple[list[dict[str, Any]], Any, Any]:
    """A weather tool (no approval) and a transfer tool (approval), recording their calls."""
    calls: list[dict[str, Any]] = []

    @tool
    def get_weather(city: str) -> str:
        """Get the weather.

        Args:
            city: The city.
        """
        calls.append({"tool": "get_weather", "city": city})
        return f"sunny in {city}"

    @tool(requires_approval=True)
    def transfer_funds(to: str, amount: int) -> str:
        """Move money.

        Args:
            to: The recipient.
            amount: Euros.
        """
        calls.append({"tool": "transfer_funds", "to": to, "amount": amount})
        return f"sent {amount} to {to}"

    return calls, get_weather, transfer_funds


TRANSFER = {"to": "mallory", "amount": 500}


def script(final: str = "Done.") -> list[Any]:
    return [
        reply(
            tool_calls=[
                tool_call("get_weather", {"city": "Paris"}, id="c1"),
                tool_call("transfer_funds", TRANSFER, id="c2"),
            ]
        ),
        reply(final),
    ]


def results_of(messages: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in messages:
        if m.get("role") == "tool":
            out[m["tool_call_id"]] = m["content"]
        elif m.get("type") == "function_call_output":
            out[m["call_id"]] = m["output"]
    return out


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_pauses_before_approval_then_resumes_approved(api: Literal["chat", "responses"]) -> None:
    calls, get_weather, transfer_funds = make_tools()
    agent = Agent(tools=[get_weather, transfer_funds], api=api)
    model = ScriptedModel(script("Transferred."))
    with model.install():
        paused = await agent.run("Weather in Paris, then pay mallory 500")
        # The gated function provably did not run; its sibling did and kept its result.
        assert calls == [{"tool": "get_weather", "city": "Paris"}]
        assert paused.output is None
        assert paused.pending_tool_calls == [
            PendingToolCall("c2", "transfer_funds", json.dumps(TRANSFER, separators=(",", ":")), "approval")
        ]
        assert results_of(paused.messages) == {"c1": "sunny in Paris"}
        assert len(model.requests) == 1

        decision = paused.pending_tool_calls[0].approve()
        done = await agent.run(messages=paused.messages, decisions=[decision])
    assert done.output == "Transferred."
    assert done.pending_tool_calls == []
    assert calls[-1] == {"tool": "transfer_funds", "to": "mallory", "amount": 500}
    # The model read both results, in the model's call order.
    assert list(results_of(done.messages).items()) == [
        ("c1", "sunny in Paris"),
        ("c2", "sent 500 to mallory"),
    ]
    sent = model.requests[1]["messages" if api == "chat" else "input"]
    assert list(results_of(sent)) == ["c1", "c2"]
    model.assert_complete()


async def test_denied_call_never_runs_and_the_model_reads_the_reason() -> None:
    calls, get_weather, transfer_funds = make_tools()
    agent = Agent(tools=[get_weather, transfer_funds])
    model = ScriptedModel(script("I did not send the money."))
    with model.install():
        paused = await agent.run("pay mallory")
        denial = paused.pending_tool_calls[0].deny("The account owner said no.")
        done = await agent.run(messages=paused.messages, decisions=[denial])
    assert all(c["tool"] != "transfer_funds" for c in calls)
    assert "The account owner said no." in results_of(model.requests[1]["messages"])["c2"]
    assert done.output == "I did not send the money."


async def test_decisions_that_do_not_fit_are_rejected_before_anything_runs() -> None:
    calls, get_weather, transfer_funds = make_tools()
    agent = Agent(tools=[get_weather, transfer_funds])
    model = ScriptedModel(script())
    with model.install():
        paused = await agent.run("pay mallory")
        pending = paused.pending_tool_calls[0]
        forged = ToolDecision(pending.tool_call_id, '{"to":"mallory","amount":5000}', "approve")
        with pytest.raises(ToolDecisionError, match="other arguments"):
            await agent.run(messages=paused.messages, decisions=[forged])
        with pytest.raises(ToolDecisionError, match="not pending"):
            await agent.run(messages=paused.messages, decisions=[ToolDecision("nope", "{}", "approve")])
        with pytest.raises(ToolDecisionError, match="Two decisions"):
            await agent.run(messages=paused.messages, decisions=[pending.approve(), pending.approve()])
        with pytest.raises(ToolDecisionError, match="approval"):
            pending.output("done")
        # A decision when nothing waits.
        with pytest.raises(ToolDecisionError, match="not pending"):
            await agent.run("hi", decisions=[pending.approve()])
    assert all(c["tool"] != "transfer_funds" for c in calls)
    assert len(model.requests) == 1


async def test_messages_without_decisions_close_the_waiting_call_unrun() -> None:
    # messages= carry no pause marker: without decisions the waiting call is closed like any
    # unanswered call (reported as interrupted) and its function never runs.
    calls, get_weather, transfer_funds = make_tools()
    agent = Agent(tools=[get_weather, transfer_funds])
    model = ScriptedModel([script()[0], reply("ok")])
    with model.install():
        paused = await agent.run("pay mallory")
        result = await agent.run("never mind", messages=paused.messages)
    assert [c.tool_call_id for c in result.interrupted_tool_calls] == ["c2"]
    assert all(c["tool"] != "transfer_funds" for c in calls)


async def test_approval_predicate_sees_arguments_and_context() -> None:
    ran: list[int] = []

    @tool(requires_approval=lambda args, ctx: args["amount"] > ctx.deps)
    def pay(amount: int) -> str:
        """Pay.

        Args:
            amount: Euros.
        """
        ran.append(amount)
        return "paid"

    agent = Agent(tools=[pay], deps_type=int)
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("pay", {"amount": 10}), tool_call("pay", {"amount": 900})]),
            reply("ok"),
        ]
    )
    with model.install():
        paused = await agent.run("pay twice", deps=100)
    assert ran == [10]
    assert [p.arguments for p in paused.pending_tool_calls] == ['{"amount":900}']


async def test_invalid_arguments_to_a_gated_tool_are_answered_without_asking() -> None:
    calls, get_weather, transfer_funds = make_tools()
    agent = Agent(tools=[get_weather, transfer_funds])
    model = ScriptedModel([reply(tool_calls=[tool_call("transfer_funds", {"to": "x"})]), reply("sorry")])
    with model.install():
        result = await agent.run("pay")
    assert result.output == "sorry" and result.pending_tool_calls == []
    assert "missing required field" in results_of(result.messages)["call_1"]
    assert calls == []


async def test_client_tool_round_trip() -> None:
    pick_file = client_tool(
        "pick_file",
        description="Ask the user to pick a file in the browser.",
        parameters={"type": "object", "properties": {"kind": {"type": "string"}}, "required": ["kind"]},
    )
    agent = Agent(tools=[pick_file])
    model = ScriptedModel([reply(tool_calls=[tool_call("pick_file", {"kind": "pdf"})]), reply("Got it.")])
    with model.install():
        paused = await agent.run("summarise a file")
        (pending,) = paused.pending_tool_calls
        assert pending.kind == "client" and pending.name == "pick_file"
        assert model.requests[0]["tools"][0]["function"]["name"] == "pick_file"
        with pytest.raises(ToolDecisionError, match="client-executed"):
            pending.approve()
        done = await agent.run(messages=paused.messages, decisions=[pending.output({"path": "a.pdf"})])
    assert done.output == "Got it."
    assert results_of(model.requests[1]["messages"])[pending.tool_call_id] == '{"path":"a.pdf"}'
    with pytest.raises(Exception, match="client-executed"):
        pick_file()


async def test_stream_yields_run_paused_before_the_final_event() -> None:
    _calls, get_weather, transfer_funds = make_tools()
    agent = Agent(tools=[get_weather, transfer_funds])
    model = ScriptedModel(script())
    with model.install():
        events = [e async for e in agent.run_stream("pay")]
    started = [e.tool_call_id for e in events if isinstance(e, ToolCallStarted)]
    assert started == ["c1"]
    assert [e.tool_call_id for e in events if isinstance(e, ToolCallResult)] == ["c1"]
    assert isinstance(events[-2], RunPaused) and isinstance(events[-1], FinalResult)
    assert events[-2].pending_tool_calls == events[-1].result.pending_tool_calls


async def test_session_keeps_the_pause_and_a_crash_after_the_decision_is_interrupted() -> None:
    started = asyncio.Event()

    @tool(requires_approval=True)
    async def deploy(version: str) -> str:
        """Deploy.

        Args:
            version: The version.
        """
        started.set()
        await asyncio.sleep(3600)
        return "deployed"

    agent = Agent(tools=[deploy])
    session = MemorySession("ops")
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("deploy", {"version": "2"}, id="d1")]), reply("It was interrupted.")]
    )
    with model.install():
        paused = await agent.run("deploy v2", session=session)
        # Loading the paused thread does not close the waiting call as "interrupted".
        with pytest.raises(ToolDecisionError, match="need a decision"):
            await agent.run("still there?", session=session)
        task = asyncio.ensure_future(
            agent.run(session=session, decisions=[paused.pending_tool_calls[0].approve()])
        )
        await started.wait()
        task.cancel()  # the process "dies" while the approved call runs
        with pytest.raises(asyncio.CancelledError):
            await task
        # Now the missing result means a crash: closed as interrupted, never asked again.
        resumed = await agent.run(session=session)
    assert [c.tool_call_id for c in resumed.interrupted_tool_calls] == ["d1"]
    assert resumed.output == "It was interrupted."
    assert all(not item.get("type", "").startswith("agentkit.") for item in model.requests[1]["messages"])


RESUME = textwrap.dedent(
    """
    import asyncio, json, sys
    from agentkit import Agent, PendingToolCall, tool
    from agentkit.sessions import SQLiteSession
    from agentkit.testing import ScriptedModel, reply

    db, effects, pending = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])

    @tool(requires_approval=True)
    def transfer_funds(to: str, amount: int) -> str:
        '''Move money.

        Args:
            to: The recipient.
            amount: Euros.
        '''
        with open(effects, "a") as f:
            f.write(f"{to} {amount}\\n")
        return "sent"

    async def main() -> None:
        model = ScriptedModel([reply("Sent, in another process.")])
        decision = PendingToolCall(**pending).approve()
        with model.install():
            result = await Agent(tools=[transfer_funds]).run(
                session=SQLiteSession("t", db), decisions=[decision]
            )
        sent = model.requests[0]["messages"]
        print(json.dumps({"output": result.output, "last": sent[-1]}))

    asyncio.run(main())
    """
)


async def test_resume_in_a_new_process_from_sqlite(tmp_path: Path) -> None:
    calls, get_weather, transfer_funds = make_tools()
    db = tmp_path / "threads.sqlite3"
    effects = tmp_path / "effects"
    model = ScriptedModel(script())
    with model.install():
        paused = await Agent(tools=[get_weather, transfer_funds]).run("pay", session=SQLiteSession("t", db))
    assert [c["tool"] for c in calls] == ["get_weather"]
    pending = vars(paused.pending_tool_calls[0])
    worker = tmp_path / "resume.py"
    worker.write_text(RESUME)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(worker), str(db), str(effects), json.dumps(pending),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    report = json.loads(out.decode().strip().splitlines()[-1])
    assert report["output"] == "Sent, in another process."
    assert report["last"] == {"role": "tool", "tool_call_id": "c2", "content": "sent"}
    assert effects.read_text() == "mallory 500\n"
    assert [c["tool"] for c in calls] == ["get_weather"]

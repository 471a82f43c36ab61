"""Paused runs over HTTP: approve/deny bound to call id and arguments, client-executed tools through
the SDK's ``submit_tool_outputs``, and a pause that survives a server restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from serve_fixtures import running
from test_serve import parse_sse

from agentkit import Agent, tool
from agentkit.testing import ScriptedModel, reply, tool_call

pytestmark = [
    pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning"),
]

sent: list[str] = []


@tool(requires_approval=True)
def send_email(to: str, body: str) -> str:
    """Send an email.

    Args:
        to: The recipient.
        body: The text.
    """
    sent.append(to)
    return f"sent to {to}"


def email_script(request: Any) -> Any:
    last = request["messages"][-1]
    if last["role"] == "user":
        return reply(
            "I will send it.", tool_calls=[tool_call("send_email", {"to": "bob@example.com", "body": "hi"})]
        )
    return reply(f"Result: {last['content']}")


def mailer(model: ScriptedModel) -> Agent[Any, Any]:
    return Agent("gpt-4o-mini", name="mailer", tools=[send_email], client=model.client())


async def start(http: Any) -> tuple[str, dict[str, Any]]:
    thread = (await http.post("/v1/threads", json={})).json()
    body = {"assistant_id": "asst_mailer", "input": "Email bob"}
    events = parse_sse((await http.post(f"/agentkit/threads/{thread['id']}/runs", json=body)).text)
    assert events[-1]["event"] == "approval_required", events
    return thread["id"], json.loads(events[-1]["data"])


async def test_approve_runs_the_tool_once_with_the_approved_arguments(tmp_path: Path) -> None:
    sent.clear()
    model = ScriptedModel(email_script)
    async with running([mailer(model)], store=f"sqlite:///{tmp_path}/s.db") as server:
        http = server.http()
        thread_id, paused = await start(http)
        (call,) = paused["pending_tool_calls"]
        assert call == {
            "tool_call_id": "call_1",
            "name": "send_email",
            "arguments": '{"to":"bob@example.com","body":"hi"}',
            "kind": "approval",
        }
        run_id = paused["run"]["id"]
        assert paused["run"]["status"] == "requires_action" and sent == []
        # The thread is held while the run waits.
        busy = await http.post(f"/v1/threads/{thread_id}/messages", json={"role": "user", "content": "x"})
        assert busy.json()["error"]["code"] == "thread_busy"
        # Bound to the arguments: another recipient is refused, and nothing runs.
        other = {"tool_call_id": "call_1", "arguments": '{"to":"eve@example.com","body":"hi"}'}
        refused = await http.post(f"/agentkit/runs/{run_id}/approve", json=other)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "arguments_mismatch"
        unknown = await http.post(
            f"/agentkit/runs/{run_id}/approve", json={**other, "tool_call_id": "call_9"}
        )
        assert unknown.json()["error"]["code"] == "tool_call_not_pending"
        # Another user cannot decide.
        stranger = await server.http("bob").post(
            f"/agentkit/runs/{run_id}/approve",
            json={"tool_call_id": "call_1", "arguments": call["arguments"]},
        )
        assert stranger.status_code == 404 and sent == []
        approved = await http.post(
            f"/agentkit/runs/{run_id}/approve",
            json={"tool_call_id": "call_1", "arguments": call["arguments"]},
        )
        events = parse_sse(approved.text)
        kinds = [e["event"] for e in events]
        assert kinds[:2] == ["tool_call_started", "tool_call_finished"] and kinds[-1] == "final"
        assert json.loads(events[-1]["data"])["output"] == "Result: sent to bob@example.com"
        assert sent == ["bob@example.com"]
        # Numbering goes on from the paused part: one log, resumable from the start.
        whole = parse_sse((await http.get(f"/agentkit/runs/{run_id}/events")).text)
        ids = [int(e["id"]) for e in whole]
        assert ids == sorted(ids) and int(events[0]["id"]) > int(paused_id(whole))
        again = await http.post(
            f"/agentkit/runs/{run_id}/approve",
            json={"tool_call_id": "call_1", "arguments": call["arguments"]},
        )
        assert again.json()["error"]["code"] == "run_not_requires_action" and sent == ["bob@example.com"]


def paused_id(events: list[dict[str, Any]]) -> str:
    return next(e["id"] for e in events if e["event"] == "approval_required")


async def test_deny_sends_the_reason_to_the_model(tmp_path: Path) -> None:
    sent.clear()
    model = ScriptedModel(email_script)
    async with running([mailer(model)], store=f"sqlite:///{tmp_path}/s.db") as server:
        http = server.http()
        _, paused = await start(http)
        (call,) = paused["pending_tool_calls"]
        denied = await http.post(
            f"/agentkit/runs/{paused['run']['id']}/deny",
            json={"tool_call_id": "call_1", "arguments": call["arguments"], "reason": "not to Bob"},
        )
        final = json.loads(parse_sse(denied.text)[-1]["data"])
        assert "not to Bob" in final["output"] and sent == []
        assert model.requests[-1]["messages"][-1]["role"] == "tool"


async def test_a_paused_run_survives_a_restart(tmp_path: Path) -> None:
    sent.clear()
    store = f"sqlite:///{tmp_path}/s.db"
    async with running([mailer(ScriptedModel(email_script))], store=store) as server:
        keys = server.keys
        thread_id, paused = await start(server.http())
    async with running([mailer(ScriptedModel(email_script))], store=store, users=()) as server:
        server.keys.update(keys)
        http = server.http()
        run = (await http.get(f"/v1/threads/{thread_id}/runs/{paused['run']['id']}")).json()
        assert run["status"] == "requires_action"
        (call,) = paused["pending_tool_calls"]
        approved = await http.post(
            f"/agentkit/runs/{run['id']}/approve",
            json={"tool_call_id": "call_1", "arguments": call["arguments"]},
        )
        assert parse_sse(approved.text)[-1]["event"] == "final"
        assert sent == ["bob@example.com"]


async def test_cancelling_a_paused_run_denies_its_calls_on_the_next_run(tmp_path: Path) -> None:
    sent.clear()
    model = ScriptedModel(email_script)
    async with running([mailer(model)], store=f"sqlite:///{tmp_path}/s.db") as server:
        http = server.http()
        thread_id, paused = await start(http)
        cancelled = (await http.post(f"/v1/threads/{thread_id}/runs/{paused['run']['id']}/cancel")).json()
        assert cancelled["status"] == "cancelled"
        model_script_calls = len(model.requests)
        body = {"assistant_id": "asst_mailer", "input": "Never mind", "stream": False}
        done = (await http.post(f"/agentkit/threads/{thread_id}/runs", json=body)).json()
        assert done["run"]["status"] in ("completed", "requires_action") and sent == []
        request = model.requests[model_script_calls]
        denial = next(m for m in request["messages"] if m["role"] == "tool")
        assert "cancelled" in denial["content"]


async def test_client_tools_round_trip_through_the_sdk(tmp_path: Path) -> None:
    from agentkit.serve import ToolRegistry

    def script(request: Any) -> Any:
        last = request["messages"][-1]
        if last["role"] == "user":
            return reply(tool_calls=[tool_call("get_location", {"precise": True})])
        return reply(f"You are in {last['content']}.")

    model = ScriptedModel(script)
    async with running(ToolRegistry(), store=f"sqlite:///{tmp_path}/s.db", client=model.client()) as server:
        client = server.openai()
        assistant = await client.beta.assistants.create(
            model="gpt-4o-mini",
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "get_location",
                        "description": "The user's location.",
                        "parameters": {"type": "object", "properties": {"precise": {"type": "boolean"}}},
                    },
                }
            ],
        )
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "Where am I?"}])
        run = await client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=20
        )
        assert run.status == "requires_action" and run.required_action is not None
        (call,) = run.required_action.submit_tool_outputs.tool_calls
        assert (call.function.name, call.function.arguments) == ("get_location", '{"precise":true}')
        run = await client.beta.threads.runs.submit_tool_outputs_and_poll(
            run_id=run.id,
            thread_id=thread.id,
            tool_outputs=[{"tool_call_id": call.id, "output": "Lyon"}],
            poll_interval_ms=20,
        )
        assert run.status == "completed"
        messages = await client.beta.threads.messages.list(thread.id)
        assert messages.data[0].content[0].text.value == "You are in Lyon."  # type: ignore[union-attr]
        assert model.requests[0]["tools"][0]["function"]["name"] == "get_location"
        # Streamed too: the stream of the resumed part ends with the run completed.
        await client.beta.threads.messages.create(thread.id, role="user", content="And now?")
        run = await client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=20
        )
        (call,) = run.required_action.submit_tool_outputs.tool_calls  # type: ignore[union-attr]
        async with client.beta.threads.runs.submit_tool_outputs_stream(
            run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call.id, "output": "Paris"}]
        ) as stream:
            async for _ in stream:
                pass
            final = await stream.get_final_run()
        assert final.status == "completed"

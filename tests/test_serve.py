"""The service through the ``openai`` SDK's own Assistants methods, against uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from serve_fixtures import running
from sessions_fixtures import POSTGRES_DSN, drop_store, require_server

from agentkit import Agent, tool
from agentkit.serve import ToolRegistry
from agentkit.serve._store import Record
from agentkit.testing import ScriptedModel, api_error, reply, tool_call

pytestmark = [
    pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning"),
]

_gates: list[asyncio.Event] = []


def new_gate() -> asyncio.Event:
    """A gate for ``slow_lookup`` in this test's event loop."""
    _gates.append(asyncio.Event())
    return _gates[-1]


@tool
def get_weather(city: str) -> str:
    """Return the weather in a city.

    Args:
        city: The city name.
    """
    return f"sunny in {city}"


@tool
async def slow_lookup(topic: str) -> str:
    """Look a topic up; waits until the test opens the gate.

    Args:
        topic: What to look up.
    """
    await _gates[-1].wait()
    return f"facts about {topic}"


def weather_script(request: Any) -> Any:
    """Call the tool for every new user message, then answer with what it returned."""
    last = request["messages"][-1]
    if last["role"] == "user":
        return reply(tool_calls=[tool_call("get_weather", {"city": last["content"].split()[-1].strip("?")})])
    return reply(f"The weather: {last['content']}.", usage=(20, 5))


def make_agent(model: ScriptedModel, **kw: Any) -> Agent[Any, Any]:
    return Agent(
        "gpt-4o-mini",
        name="weather",
        instructions="Be brief.",
        tools=[get_weather],
        client=model.client(),
        **kw,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/serve.sqlite3"
        return
    require_server("postgres")
    schema = f"t_serve_{tmp_path.name[-8:].replace('-', '_')}"
    yield f"{POSTGRES_DSN}#{schema}"
    asyncio.run(drop_store("postgres", {"schema": schema}))


async def test_the_tutorial_flow_with_create_and_poll(store_url: str) -> None:
    model = ScriptedModel(weather_script)
    async with running([make_agent(model)], store=store_url) as server:
        client = server.openai()
        assistant = await client.beta.assistants.create(
            model="gpt-4o-mini",
            name="Forecaster",
            instructions="You tell the weather.",
            tools=[{"type": "function", "function": {"name": "get_weather"}}],
        )
        assert assistant.tools[0].function.parameters["required"] == ["city"]  # type: ignore[union-attr]
        thread = await client.beta.threads.create()
        await client.beta.threads.messages.create(thread.id, role="user", content="Weather in Paris?")
        run = await client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=20
        )
        assert run.status == "completed", run.last_error
        assert run.usage is not None and run.usage.prompt_tokens == 20
        messages = await client.beta.threads.messages.list(thread.id)
        assert [(m.role, m.content[0].text.value) for m in messages.data] == [  # type: ignore[union-attr]
            ("assistant", "The weather: sunny in Paris."),
            ("user", "Weather in Paris?"),
        ]
        assert messages.data[0].run_id == run.id and messages.data[0].assistant_id == assistant.id
        # The tool ran on the server, and the model saw the assistant's instructions.
        assert model.requests[1]["messages"][-1] == {
            "role": "tool",
            "tool_call_id": "call_1",
            "content": "sunny in Paris",
        }
        assert model.requests[0]["messages"][0]["content"] == "You tell the weather."
        # A second run on the same thread, with the served agent: the history carries over.
        await client.beta.threads.messages.create(thread.id, role="user", content="And in Oslo?")
        run2 = await client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id="asst_weather", poll_interval_ms=20
        )
        assert run2.status == "completed"
        assert [m["role"] for m in model.requests[-1]["messages"]] == [
            "system",
            "user",
            "assistant",
            "tool",
            "assistant",
            "user",
            "assistant",
            "tool",
        ]
        runs = await client.beta.threads.runs.list(thread.id, order="asc")
        assert [r.id for r in runs.data] == [run.id, run2.id]
        assert (await client.beta.threads.runs.retrieve(run.id, thread_id=thread.id)).status == "completed"


async def test_streaming_a_run_in_the_assistants_event_format(tmp_path: Path) -> None:
    model = ScriptedModel(weather_script)
    async with running([make_agent(model)], store=f"sqlite:///{tmp_path}/s.db") as server:
        client = server.openai()
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Rome?"}])
        names = []
        async with client.beta.threads.runs.stream(
            thread_id=thread.id, assistant_id="asst_weather"
        ) as stream:
            async for event in stream:
                names.append(event.event)
            final = await stream.get_final_messages()
            steps = await stream.get_final_run_steps()
            text = final[0].content[0].text.value  # type: ignore[union-attr]
            run = await stream.get_final_run()
        assert run.status == "completed"
        assert text == "The weather: sunny in Rome."
        assert names[:3] == ["thread.run.created", "thread.run.queued", "thread.run.in_progress"]
        assert names[-1] == "thread.run.completed"
        assert "thread.message.delta" in names and "thread.run.step.delta" in names
        tool_step = next(s for s in steps if s.type == "tool_calls")
        call = tool_step.step_details.tool_calls[0]  # type: ignore[union-attr]
        assert (call.function.name, call.function.arguments, call.function.output) == (  # type: ignore[union-attr]
            "get_weather",
            '{"city":"Rome"}',
            "sunny in Rome",
        )
        # The stream left the same message in the thread.
        listed = await client.beta.threads.messages.list(thread.id, order="asc")
        assert [m.role for m in listed.data] == ["user", "assistant"]
        assert listed.data[1].id == final[0].id


def parse_sse(raw: str) -> list[dict[str, Any]]:
    events = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if "data" in fields:
            events.append(fields)
    return events


async def test_a_client_that_disconnects_mid_stream_does_not_stop_the_run(tmp_path: Path) -> None:
    gate = new_gate()
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("slow_lookup", {"topic": "owls"})]), reply("Owls are birds.")]
    )
    agent = Agent("gpt-4o-mini", name="slow", tools=[slow_lookup], client=model.client())
    async with running([agent], store=f"sqlite:///{tmp_path}/s.db") as server, server.http() as http:
        thread = (
            await http.post("/v1/threads", json={"messages": [{"role": "user", "content": "owls"}]})
        ).json()
        seen: list[dict[str, Any]] = []
        body = {"assistant_id": "asst_slow", "stream": True}
        async with http.stream("POST", f"/v1/threads/{thread['id']}/runs", json=body) as response:
            buffer = ""
            async for chunk in response.aiter_text():
                buffer += chunk
                seen = parse_sse(buffer)
                if any(e["event"] == "thread.run.step.delta" for e in seen):
                    break  # the tool has started; hang up while it runs
        run_id = json.loads(seen[0]["data"])["id"]
        gate.set()
        for _ in range(500):
            run = (await http.get(f"/v1/threads/{thread['id']}/runs/{run_id}")).json()
            if run["status"] == "completed":
                break
            await asyncio.sleep(0.01)
        assert run["status"] == "completed"
        messages = (await http.get(f"/v1/threads/{thread['id']}/messages")).json()["data"]
        assert messages[0]["content"][0]["text"]["value"] == "Owls are birds."
        # Resuming after the last event seen gives exactly the rest: no gap, no repeat.
        last = int(seen[-1]["id"])
        rest = (
            await http.get(
                f"/v1/threads/{thread['id']}/runs/{run_id}/events", headers={"last-event-id": str(last)}
            )
        ).text
        resumed = parse_sse(rest)
        ids = [int(e["id"]) for e in seen] + [int(e["id"]) for e in resumed if "id" in e]
        assert ids == list(range(1, len(ids) + 1))
        assert resumed[-2]["event"] == "thread.run.completed" and resumed[-1]["data"] == "[DONE]"


async def test_cancelling_a_run_leaves_the_thread_usable(tmp_path: Path) -> None:
    new_gate()
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("slow_lookup", {"topic": "owls"})]), reply("Second run answer.")]
    )
    agent = Agent("gpt-4o-mini", name="slow", tools=[slow_lookup], client=model.client())
    async with running([agent], store=f"sqlite:///{tmp_path}/s.db") as server:
        client = server.openai()
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "owls"}])
        run = await client.beta.threads.runs.create(thread_id=thread.id, assistant_id="asst_slow")
        while len(model.requests) < 1:
            await asyncio.sleep(0.01)
        busy = await server.http().post(
            f"/v1/threads/{thread.id}/messages", json={"role": "user", "content": "more"}
        )
        assert busy.status_code == 400 and busy.json()["error"]["code"] == "thread_busy"
        cancelling = await client.beta.threads.runs.cancel(run.id, thread_id=thread.id)
        assert cancelling.status in ("cancelling", "cancelled")
        run = await client.beta.threads.runs.poll(run.id, thread_id=thread.id, poll_interval_ms=20)
        assert run.status == "cancelled" and run.cancelled_at is not None
        await client.beta.threads.messages.create(thread.id, role="user", content="again")
        run = await client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id="asst_slow", poll_interval_ms=20
        )
        assert run.status == "completed"
        # The interrupted call got a result before the next request, so the history is valid.
        roles = [m["role"] for m in model.requests[-1]["messages"]]
        assert roles == ["user", "assistant", "tool", "user"]


async def test_a_failing_model_fails_the_run_with_last_error(tmp_path: Path) -> None:
    model = ScriptedModel([api_error(500)])
    async with running([make_agent(model)], store=f"sqlite:///{tmp_path}/s.db") as server:
        client = server.openai()
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Oslo?"}])
        run = await client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id="asst_weather", poll_interval_ms=20
        )
        assert run.status == "failed" and run.failed_at is not None
        assert run.last_error is not None and run.last_error.code == "server_error"
        assert "InternalServerError" in run.last_error.message


async def test_unsupported_tools_are_a_clear_400(tmp_path: Path) -> None:
    import openai

    async with running(ToolRegistry([get_weather]), store=f"sqlite:///{tmp_path}/s.db") as server:
        client = server.openai()
        for kind in ("code_interpreter", "file_search"):
            with pytest.raises(openai.BadRequestError) as info:
                await client.beta.assistants.create(model="gpt-4o-mini", tools=[{"type": kind}])
            error = info.value.body
            assert isinstance(error, dict) and error["code"] == "unsupported_tool"
            assert f"the {kind} tool is not supported by agentkit" in error["message"]
            assert error["param"] == "tools.0.type"
        with pytest.raises(openai.BadRequestError) as info:
            await client.beta.assistants.create(
                model="gpt-4o-mini",
                tools=[
                    {"type": "function", "function": {"name": "launch", "parameters": {"type": "string"}}}
                ],
            )
        assert info.value.body["param"] == "tools[0].function.parameters"  # type: ignore[index]
        # A registry-only server has no served assistants, and builds them from the registry.
        assert (await client.beta.assistants.list()).data == []


async def test_threads_survive_a_restart_and_an_orphaned_run_is_failed(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/s.db"
    model = ScriptedModel(weather_script)
    async with running([make_agent(model)], store=store) as server:
        keys = server.keys
        client = server.openai()
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Oslo?"}])
        run = await client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id="asst_weather", poll_interval_ms=20
        )
        # As if the process had died mid-run: the stored run still says in_progress.
        service = server.app.state.service
        stored = await service.store.get("run", run.id, "alice")
        await service.store.save(
            [Record("run", run.id, "alice", {**stored, "status": "in_progress"}, thread.id)]
        )
    async with running([make_agent(model)], store=store, users=()) as server:
        server.keys.update(keys)
        client = server.openai()
        again = await client.beta.threads.runs.retrieve(run.id, thread_id=thread.id)
        assert again.status == "failed"
        assert again.last_error is not None and "server stopped" in again.last_error.message
        messages = await client.beta.threads.messages.list(thread.id, order="asc")
        assert [m.role for m in messages.data] == ["user", "assistant"]


async def test_per_run_overrides_reach_the_model(tmp_path: Path) -> None:
    model = ScriptedModel(weather_script)
    async with running([make_agent(model)], store=f"sqlite:///{tmp_path}/s.db") as server:
        client = server.openai()
        thread = await client.beta.threads.create()
        run = await client.beta.threads.runs.create_and_poll(
            thread_id=thread.id,
            assistant_id="asst_weather",
            additional_instructions="Answer in French.",
            additional_messages=[{"role": "user", "content": "Weather in Lyon?"}],
            model="gpt-4o",
            temperature=0.2,
            metadata={"ticket": "42"},
            poll_interval_ms=20,
        )
        assert run.status == "completed" and run.model == "gpt-4o" and run.temperature == 0.2
        assert run.metadata == {"ticket": "42"}
        request = model.requests[0]
        assert (request["model"], request["temperature"]) == ("gpt-4o", 0.2)
        assert request["messages"][0] == {"role": "system", "content": "Be brief.\n\nAnswer in French."}
        assert request["messages"][1] == {"role": "user", "content": "Weather in Lyon?"}
        listed = await client.beta.threads.messages.list(thread.id, order="asc", run_id=run.id)
        assert [m.role for m in listed.data] == ["user", "assistant"]

"""The native run endpoint (SSE and JSON), resuming with Last-Event-ID, the CLI, and request spans."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from serve_fixtures import running
from test_serve import parse_sse

from agentkit import Agent, tool
from agentkit.serve import create_app
from agentkit.testing import ScriptedModel, api_error, reply, tool_call


@tool
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first.
        b: The second.
    """
    return a + b


def adder(model: ScriptedModel) -> Agent[Any, Any]:
    return Agent("gpt-4o-mini", name="adder", tools=[add], client=model.client())


async def test_native_stream_has_text_tool_calls_and_final(tmp_path: Path) -> None:
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("add", {"a": 2, "b": 3})]), reply("2 + 3 = 5", usage=(9, 4))]
    )
    async with running([adder(model)], store=f"sqlite:///{tmp_path}/s.db") as server:
        http = server.http()
        thread = (await http.post("/v1/threads", json={})).json()
        body = {"assistant_id": "asst_adder", "input": "What is 2 + 3?"}
        response = await http.post(f"/agentkit/threads/{thread['id']}/runs", json=body)
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.text)
        kinds = [e["event"] for e in events]
        assert kinds[0] == "run_created" and kinds[-1] == "final"
        assert kinds[1:3] == ["tool_call_started", "tool_call_finished"]
        assert set(kinds[3:-1]) == {"text_delta"}
        started = json.loads(events[1]["data"])
        assert started == {
            "type": "tool_call_started",
            "tool_call_id": "call_1",
            "name": "add",
            "arguments": '{"a":2,"b":3}',
        }
        finished = json.loads(events[2]["data"])
        assert (finished["output"], finished["is_error"]) == ("5", False)
        text = "".join(json.loads(e["data"])["text"] for e in events if e["event"] == "text_delta")
        final = json.loads(events[-1]["data"])
        assert text == final["output"] == "2 + 3 = 5"
        assert final["usage"] == {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
        # Ids are the run log's numbers: increasing, and resumable.
        ids = [int(e["id"]) for e in events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        run_id = final["run"]["id"]
        rest = await http.get(f"/agentkit/runs/{run_id}/events", headers={"last-event-id": str(ids[2])})
        assert [int(e["id"]) for e in parse_sse(rest.text)] == ids[3:]
        # The same run seen through the Assistants API.
        messages = (await http.get(f"/v1/threads/{thread['id']}/messages", params={"order": "asc"})).json()
        assert [m["content"][0]["text"]["value"] for m in messages["data"]] == ["What is 2 + 3?", "2 + 3 = 5"]


async def test_native_json_result_and_error(tmp_path: Path) -> None:
    model = ScriptedModel([reply("hello"), api_error(500)])
    async with running([adder(model)], store=f"sqlite:///{tmp_path}/s.db") as server:
        http = server.http()
        thread = (await http.post("/v1/threads", json={})).json()
        url = f"/agentkit/threads/{thread['id']}/runs"
        ok = (
            await http.post(url, json={"assistant_id": "asst_adder", "input": "hi", "stream": False})
        ).json()
        assert ok["output"] == "hello" and ok["run"]["status"] == "completed" and ok["error"] is None
        failed = (
            await http.post(url, json={"assistant_id": "asst_adder", "input": "again", "stream": False})
        ).json()
        assert failed["run"]["status"] == "failed" and "InternalServerError" in failed["error"]
        streamed = await http.post(url, json={"assistant_id": "asst_nobody", "input": "x"})
        assert streamed.status_code == 404


def test_cli_keys_create_and_serve_usage_errors(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/k.db"
    cli = [sys.executable, "-m", "agentkit._cli"]
    made = subprocess.run([*cli, "keys", "create", "carol", "--store", store], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("ak-") and len(key) > 40
    bad = subprocess.run([*cli, "keys", "create", " ", "--store", store], capture_output=True, text=True)
    assert bad.returncode == 2 and "user name" in bad.stderr
    bad_store = subprocess.run(
        [*cli, "keys", "create", "x", "--store", "ftp://x"], capture_output=True, text=True
    )
    assert bad_store.returncode == 2 and "Unsupported store URL" in bad_store.stderr
    redis = subprocess.run(
        [*cli, "keys", "create", "x", "--store", "redis://127.0.0.1:63799/0"], capture_output=True, text=True
    )
    assert redis.returncode == 2 and "not Redis" in redis.stderr
    for target, message in (
        ("nope_module:x", "Cannot import"),
        ("json:dumps", "serve an Agent"),
        ("json", "module:obj"),
    ):
        served = subprocess.run([*cli, "serve", target, "--store", store], capture_output=True, text=True)
        assert served.returncode == 2 and message in served.stderr, served.stderr


async def test_cli_key_works_against_the_app(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/k.db"
    made = subprocess.run(
        [sys.executable, "-m", "agentkit._cli", "keys", "create", "carol", "--store", store],
        capture_output=True,
        text=True,
        check=True,
    )
    async with running([adder(ScriptedModel([]))], store=store, users=()) as server:
        server.keys["carol"] = made.stdout.strip()
        assert (await server.http("carol").get("/v1/threads")).status_code == 200


SPANS_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    import httpx2
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentkit import Agent
    from agentkit.serve import create_app, create_key
    from agentkit.testing import ScriptedModel, reply

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    async def main() -> str:
        agent = Agent("gpt-4o-mini", name="adder", client=ScriptedModel([reply("5")]).client())
        app = create_app(agent, store=sys.argv[1], opentelemetry=True)
        key = await create_key(app.state.service.store, "alice")
        transport = httpx2.ASGITransport(app=app)
        headers = {"authorization": "Bearer " + key}
        async with httpx2.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
            thread = (await http.post("/v1/threads", json={})).json()
            await http.get("/v1/threads/" + thread["id"])
            body = {"assistant_id": "asst_adder", "input": "2 + 3?", "stream": False}
            await http.post("/agentkit/threads/" + thread["id"] + "/runs", json=body)
        return thread["id"]

    thread_id = asyncio.run(main())
    print(json.dumps({"thread": thread_id, "spans": [
        {
            "name": s.name,
            "kind": s.kind.name,
            "id": s.context.span_id,
            "parent": s.parent.span_id if s.parent else None,
            "status": (s.attributes or {}).get("http.status_code")
            or (s.attributes or {}).get("http.response.status_code"),
        }
        for s in exporter.get_finished_spans()
    ]}))
    """
)


def test_one_span_per_request_around_the_core_run_spans(tmp_path: Path) -> None:
    # In a process of its own: a tracer provider is global and set once per process.
    out = subprocess.run(
        [sys.executable, "-c", SPANS_SCRIPT, f"sqlite:///{tmp_path}/s.db"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = json.loads(out.strip().splitlines()[-1])
    servers = {s["name"]: s for s in found["spans"] if s["kind"] == "SERVER"}
    assert {
        "POST /v1/threads",
        "GET /v1/threads/{thread_id}",
        "POST /agentkit/threads/{thread_id}/runs",
    } <= set(servers)
    assert not any(found["thread"] in name for name in servers)
    assert {s["status"] for s in servers.values()} == {200}
    # The core's run span is a child of the request that started the run.
    run = next(s for s in found["spans"] if s["name"] == "invoke_agent adder")
    assert run["parent"] == servers["POST /agentkit/threads/{thread_id}/runs"]["id"]


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentkit.exceptions import ConfigurationError

    monkeypatch.setitem(sys.modules, "sse_starlette", None)
    with pytest.raises(ConfigurationError, match=r"agentkit-openai\[serve\]"):
        create_app(adder(ScriptedModel([])))


def test_public_names() -> None:
    import agentkit.serve

    assert agentkit.serve.__all__ == [
        "RateLimit",
        "ServeStore",
        "ToolRegistry",
        "create_app",
        "create_key",
        "open_store",
    ]
    assert agentkit.serve.ToolRegistry is __import__("agentkit.sessions").sessions.ToolRegistry

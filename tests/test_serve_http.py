"""The service's HTTP contract: keys, isolation of every endpoint, errors, limits, CORS, pagination."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from serve_fixtures import Server, running
from test_serve import store_url  # noqa: F401  (a fixture: SQLite and Postgres)

from agentkit import Agent, tool
from agentkit.serve import RateLimit
from agentkit.testing import ScriptedModel, reply


@tool
def echo(text: str) -> str:
    """Echo the text.

    Args:
        text: Anything.
    """
    return text


def agent() -> Agent[Any, Any]:
    model = ScriptedModel(lambda request: reply("ok"))
    return Agent("gpt-4o-mini", name="echo", tools=[echo], client=model.client())


async def alice_objects(server: Server) -> dict[str, str]:
    """Alice's assistant, thread, message and a finished run."""
    http = server.http("alice")
    assistant = (await http.post("/v1/assistants", json={"model": "gpt-4o-mini"})).json()
    thread = (await http.post("/v1/threads", json={})).json()
    message = (
        await http.post(f"/v1/threads/{thread['id']}/messages", json={"role": "user", "content": "hi"})
    ).json()
    run = (await http.post(f"/v1/threads/{thread['id']}/runs", json={"assistant_id": "asst_echo"})).json()
    for _ in range(300):
        status = (await http.get(f"/v1/threads/{thread['id']}/runs/{run['id']}")).json()["status"]
        if status == "completed":
            break
        await asyncio.sleep(0.01)
    return {
        "assistant_id": assistant["id"],
        "thread_id": thread["id"],
        "message_id": message["id"],
        "run_id": run["id"],
    }


# Every route with an object id in its path, and a valid body for it: bob must get a 404 for each.
BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/v1/assistants/{assistant_id}"): None,
    ("POST", "/v1/assistants/{assistant_id}"): {"name": "mine now"},
    ("DELETE", "/v1/assistants/{assistant_id}"): None,
    ("GET", "/v1/threads/{thread_id}"): None,
    ("POST", "/v1/threads/{thread_id}"): {"metadata": {"a": "b"}},
    ("DELETE", "/v1/threads/{thread_id}"): None,
    ("GET", "/v1/threads/{thread_id}/messages"): None,
    ("POST", "/v1/threads/{thread_id}/messages"): {"role": "user", "content": "hi"},
    ("GET", "/v1/threads/{thread_id}/messages/{message_id}"): None,
    ("GET", "/v1/threads/{thread_id}/runs"): None,
    ("POST", "/v1/threads/{thread_id}/runs"): {"assistant_id": "asst_echo"},
    ("GET", "/v1/threads/{thread_id}/runs/{run_id}"): None,
    ("POST", "/v1/threads/{thread_id}/runs/{run_id}/cancel"): None,
    ("POST", "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"): {
        "tool_outputs": [{"tool_call_id": "call_1", "output": "x"}]
    },
    ("GET", "/v1/threads/{thread_id}/runs/{run_id}/events"): None,
    ("POST", "/agentkit/threads/{thread_id}/runs"): {"assistant_id": "asst_echo", "input": "hi"},
    ("GET", "/agentkit/runs/{run_id}/events"): None,
    ("POST", "/agentkit/runs/{run_id}/approve"): {"tool_call_id": "call_1", "arguments": "{}"},
    ("POST", "/agentkit/runs/{run_id}/deny"): {"tool_call_id": "call_1", "arguments": "{}"},
}


def routes_with_ids(app: Any) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if "{" in route.path:
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method, route.path))
    return found - {("GET", "/playground/{name}")}


async def test_another_users_objects_are_404_on_every_endpoint(store_url: str) -> None:
    async with running([agent()], store=store_url) as server:
        assert routes_with_ids(server.app) == set(BODIES), "add the new endpoint to BODIES"
        ids = await alice_objects(server)
        bob = server.http("bob")
        for (method, template), body in BODIES.items():
            path = template.format(**ids)
            response = await bob.request(method, path, json=body)
            assert response.status_code == 404, (method, template, response.text)
            error = response.json()["error"]
            assert set(error) == {"message", "type", "param", "code"}
            assert error["type"] == "invalid_request_error" and "No " in error["message"]
        # Bob's lists do not show alice's objects; alice still has all of hers, unchanged.
        assert (await bob.get("/v1/threads")).json()["data"] == []
        assert [a["id"] for a in (await bob.get("/v1/assistants")).json()["data"]] == ["asst_echo"]
        alice = server.http("alice")
        thread = (await alice.get(f"/v1/threads/{ids['thread_id']}")).json()
        assert thread["metadata"] == {}
        messages = (await alice.get(f"/v1/threads/{ids['thread_id']}/messages")).json()["data"]
        assert [m["role"] for m in messages] == ["assistant", "user"]
        assert (await alice.get(f"/v1/assistants/{ids['assistant_id']}")).json()["name"] is None


async def test_keys_are_random_stored_hashed_and_checked(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    async with running([agent()], store=f"sqlite:///{db}") as server:
        key = server.keys["alice"]
        assert key.startswith("ak-") and len(key) >= 3 + 43  # 32 random bytes, base64url
        assert key != server.keys["bob"]
        for headers in ({}, {"authorization": "Bearer ak-wrong"}, {"authorization": key}):
            response = await server.http(None, **headers).get("/v1/threads")
            assert response.status_code == 401
            assert response.json()["error"]["code"] in ("missing_api_key", "invalid_api_key")
        assert (await server.http("alice").get("/v1/threads")).status_code == 200
    with sqlite3.connect(db) as conn:
        stored = " ".join(r[0] + r[1] for r in conn.execute("SELECT id, data FROM agentkit_serve_objects"))
    conn.close()
    assert key not in stored
    assert hashlib.sha256(key.encode()).hexdigest() in stored


async def test_rate_limit_per_key(tmp_path: Path) -> None:
    limit = RateLimit(requests=3, per_seconds=60)
    async with running([agent()], store=f"sqlite:///{tmp_path}/s.db", rate_limit=limit) as server:
        alice, bob = server.http("alice"), server.http("bob")
        codes = [(await alice.get("/v1/threads")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = await alice.get("/v1/threads")
        assert limited.json()["error"]["code"] == "rate_limit_exceeded"
        assert float(limited.headers["retry-after"]) > 0
        assert (await bob.get("/v1/threads")).status_code == 200  # bob has his own bucket


async def test_request_validation_and_error_shapes(tmp_path: Path) -> None:
    async with running([agent()], store=f"sqlite:///{tmp_path}/s.db", max_body_bytes=2000) as server:
        http = server.http("alice")
        cases = [
            (
                await http.post(
                    "/v1/assistants", content=b"{nope", headers={"content-type": "application/json"}
                ),
                400,
                "invalid_json",
                None,
            ),
            (await http.post("/v1/assistants", json={"model": "m", "colour": "red"}), 400, None, "colour"),
            (await http.post("/v1/assistants", json={"name": "n"}), 400, None, "model"),
            (await http.post("/v1/assistants", json={"model": "m", "name": "x" * 300}), 400, None, "name"),
            (
                await http.post("/v1/assistants", json={"model": "m", "instructions": "x" * 3000}),
                413,
                "request_too_large",
                None,
            ),
            (
                await http.post("/v1/threads", json={"messages": [{"role": "system", "content": "x"}]}),
                400,
                None,
                "messages.0.role",
            ),
            (await http.get("/v1/threads?limit=0"), 400, None, "limit"),
            (await http.get("/v1/threads?order=sideways"), 400, None, "order"),
            (await http.get("/v1/threads?after=thread_missing"), 400, "invalid_cursor", "after"),
            (await http.get("/v1/nothing-here"), 404, None, None),
            (await http.put("/v1/threads"), 405, None, None),
        ]
        for response, status, code, param in cases:
            assert response.status_code == status, response.text
            error = response.json()["error"]
            assert set(error) == {"message", "type", "param", "code"} and error["message"]
            assert error["code"] == code and error["param"] == param, error
        ok = await http.post("/v1/assistants", json={"model": "m", "metadata": {"k": "v"}})
        assert ok.status_code == 200 and ok.json()["metadata"] == {"k": "v"}
        # Served assistants are read-only.
        assert (await http.post("/v1/assistants/asst_echo", json={"name": "x"})).status_code == 400
        assert (await http.delete("/v1/assistants/asst_echo")).status_code == 400


async def test_pagination_of_messages(store_url: str) -> None:
    async with running([agent()], store=store_url) as server:
        http = server.http("alice")
        thread = (await http.post("/v1/threads", json={})).json()
        base = f"/v1/threads/{thread['id']}/messages"
        ids = [
            (await http.post(base, json={"role": "user", "content": str(i)})).json()["id"] for i in range(5)
        ]
        page = (await http.get(base, params={"limit": 2})).json()
        assert [m["id"] for m in page["data"]] == ids[::-1][:2] and page["has_more"] is True
        assert page["first_id"] == ids[4] and page["last_id"] == ids[3]
        page = (await http.get(base, params={"limit": 2, "after": page["last_id"]})).json()
        assert [m["id"] for m in page["data"]] == [ids[2], ids[1]]
        page = (await http.get(base, params={"order": "asc", "after": ids[1]})).json()
        assert [m["id"] for m in page["data"]] == ids[2:] and page["has_more"] is False
        page = (await http.get(base, params={"order": "asc", "before": ids[2]})).json()
        assert [m["id"] for m in page["data"]] == ids[:2]
        content = [
            m["content"][0]["text"]["value"]
            for m in (await http.get(base, params={"order": "asc"})).json()["data"]
        ]
        assert content == ["0", "1", "2", "3", "4"]
        # Deleting the thread removes it and its messages.
        deleted = (await http.delete(f"/v1/threads/{thread['id']}")).json()
        assert deleted == {"id": thread["id"], "object": "thread.deleted", "deleted": True}
        assert (await http.get(base)).status_code == 404


async def test_cors_is_off_by_default_and_configurable(tmp_path: Path) -> None:
    preflight = {
        "origin": "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
    }
    async with running([agent()], store=f"sqlite:///{tmp_path}/a.db") as server:
        response = await server.http(None).options("/v1/threads", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    async with running(
        [agent()], store=f"sqlite:///{tmp_path}/b.db", cors_origins=["https://app.example"]
    ) as server:
        response = await server.http(None).options("/v1/threads", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        other = await server.http(None).options(
            "/v1/threads", headers={**preflight, "origin": "https://evil.example"}
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"


@pytest.mark.parametrize("ids", [64])
async def test_ids_are_unguessable(tmp_path: Path, ids: int) -> None:
    async with running([agent()], store=f"sqlite:///{tmp_path}/s.db") as server:
        http = server.http("alice")
        made = [(await http.post("/v1/threads", json={})).json()["id"] for _ in range(ids)]
        assert len(set(made)) == ids
        suffixes = [i.removeprefix("thread_") for i in made]
        assert all(len(s) == 32 and int(s, 16) >= 0 for s in suffixes)  # 128 random bits each


async def test_two_runs_started_together_on_one_thread(tmp_path: Path) -> None:
    async with running([agent()], store=f"sqlite:///{tmp_path}/s.db") as server:
        http = server.http("alice")
        thread = (await http.post("/v1/threads", json={})).json()
        url = f"/v1/threads/{thread['id']}/runs"
        body = {"assistant_id": "asst_echo", "additional_messages": [{"role": "user", "content": "hi"}]}
        first, second = await asyncio.gather(http.post(url, json=body), http.post(url, json=body))
        assert sorted([first.status_code, second.status_code]) == [200, 400]
        refused = first if first.status_code == 400 else second
        assert refused.json()["error"]["code"] == "thread_busy"
        # The refused run wrote nothing: one user message, one run.
        for _ in range(300):
            runs = (await http.get(url)).json()["data"]
            if runs and runs[0]["status"] == "completed":
                break
            await asyncio.sleep(0.01)
        assert len(runs) == 1 and runs[0]["status"] == "completed"
        messages = (await http.get(f"/v1/threads/{thread['id']}/messages")).json()["data"]
        assert [m["role"] for m in messages] == ["assistant", "user"]

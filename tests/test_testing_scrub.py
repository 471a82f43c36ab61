"""Cassettes are deterministic and hold no secret, at any depth, and still replay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import openai
import pytest
import yaml

from agentkit import Agent, tool
from agentkit.testing import ScriptedModel, cassette, reply, tool_call

ROOT = Path(__file__).resolve().parents[1]
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
AWS_KEY = "AKIA" + "Z7Q2K9W4M1X8C3V6"
OPENAI_KEY = "sk-proj-" + "canary0123456789abcdefXYZ"
DB_PASSWORD = "s3cr3t-Passw0rd"
AZURE_KEY = "0123456789abcdef" * 2


# --- sets are canonical at any depth --------------------------------------------------------

SET_PROJECT = '''
import sys
import pydantic
from agentkit import Agent, tool
from agentkit.testing import ScriptedModel, cassette, reply, tool_call


class Team(pydantic.BaseModel):
    members: set[str]
    by_role: dict[str, frozenset[str]]


@tool
def team(name: str, tags: set[str]) -> Team:
    """Look a team up.

    Args:
        name: Team name.
        tags: Tags to filter on.
    """
    people = {"ana", "bo", "cy", "dee", "eli", "fay", "gus", "hal"}
    return Team(members=people, by_role={"leads": frozenset(people - {"bo", "cy"})})


agent = Agent(model="gpt-4o-mini", tools=[team])
script = [
    reply(tool_calls=[tool_call("team", {"name": "core", "tags": ["x", "y", "z", "w"]})]),
    reply("Eight people."),
]
with cassette(sys.argv[1], record=sys.argv[2]), ScriptedModel(script).install():
    assert agent.run_sync("Who is in core?").output == "Eight people."
'''


def test_sets_in_tool_results_replay_in_any_process(tmp_path: Path) -> None:
    script = tmp_path / "team.py"
    script.write_text(SET_PROJECT)
    path = tmp_path / "team.yaml"

    def run(mode: str, seed: int) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": str(ROOT)}
        return subprocess.run(
            [sys.executable, str(script), str(path), mode],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    recorded = run("all", 1)
    assert recorded.returncode == 0, recorded.stderr
    # Each process orders a set its own way; the cassette must not care.
    for seed in (2, 3, 4):
        replayed = run("none", seed)
        assert replayed.returncode == 0, replayed.stderr[-2000:]
    sent = yaml.safe_load(path.read_text())["interactions"][1]["request"]["body"]["messages"][-1]
    assert json.loads(sent["content"])["members"] == sorted(json.loads(sent["content"])["members"])


# --- secrets at every depth ------------------------------------------------------------------


@tool
def read_config(service: str) -> str:
    """Read a service's configuration (it is JSON, secrets included).

    Args:
        service: Service name.
    """
    return json.dumps(
        {
            "service": service,
            "dsn": f"postgres://app:{DB_PASSWORD}@db.internal:5432/orders",
            "credentials": {"password": DB_PASSWORD, "github": GITHUB_TOKEN},
            "aws": f"aws_access_key_id={AWS_KEY}",
            "max_tokens": 512,
        }
    )


def test_secrets_are_scrubbed_at_every_depth_and_still_replay(tmp_path: Path) -> None:
    agent = Agent(model="gpt-4o-mini", tools=[read_config])
    path = tmp_path / "config.yaml"
    question = f"Deploy with the key {OPENAI_KEY} to postgres://admin:{DB_PASSWORD}@db.internal/prod"
    script = [
        reply(tool_calls=[tool_call("read_config", {"service": "orders"})]),
        reply(f"Done. I used {GITHUB_TOKEN} and {AWS_KEY}."),
    ]
    with cassette(path, record="all"), ScriptedModel(script).install():
        agent.run_sync(question)
    text = path.read_text()
    for secret in (OPENAI_KEY, DB_PASSWORD, GITHUB_TOKEN, AWS_KEY):
        assert secret not in text, secret
    # The structure around each secret is kept.
    assert "postgres://admin:REDACTED@db.internal/prod" in text
    tool_message = yaml.safe_load(text)["interactions"][1]["request"]["body"]["messages"][-1]
    config = json.loads(tool_message["content"])  # still JSON, secrets replaced inside it
    assert config["dsn"] == "postgres://app:REDACTED@db.internal:5432/orders"
    assert config["credentials"] == {"password": "REDACTED", "github": "ghp_REDACTED"}
    assert config["aws"] == "aws_access_key_id=AKIAREDACTED" and config["max_tokens"] == 512
    assert "ghp_REDACTED and AKIAREDACTED" in text
    # Replay: the live requests carry the real secrets again and are cleaned the same way.
    with cassette(path):
        assert agent.run_sync(question).output.startswith("Done.")


def test_secrets_in_tool_call_arguments(tmp_path: Path) -> None:
    path = tmp_path / "args.yaml"
    script = [reply(tool_calls=[tool_call("login", {"user": "bob", "password": DB_PASSWORD})])]
    with cassette(path, record="all"):
        client = ScriptedModel(script).sync_client()
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "log in"}])
    text = path.read_text()
    assert DB_PASSWORD not in text
    assert '{"user":"bob","password":"REDACTED"}' in text


async def test_an_azure_api_key_in_the_query_never_reaches_the_uri(server: str, tmp_path: Path) -> None:
    path = tmp_path / "azure.yaml"

    def azure_client(key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key="unused",
            base_url=server.replace("/v1", "/openai/deployments/gpt-4o-mini"),
            default_query={"api-key": key, "api-version": "2024-10-21"},
            max_retries=0,
        )

    async def ask(client: openai.AsyncOpenAI) -> str:
        done = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        return done.choices[0].message.content or ""

    with cassette(path, record="once"):
        assert await ask(azure_client(AZURE_KEY)) == "You said: hi"
    text = path.read_text()
    assert AZURE_KEY not in text
    uri = yaml.safe_load(text)["interactions"][0]["request"]["uri"]
    assert uri.endswith(
        "/openai/deployments/gpt-4o-mini/chat/completions?api-key=REDACTED&api-version=2024-10-21"
    )
    with cassette(path):  # another key on replay still matches
        assert await ask(azure_client("f" * 32)) == "You said: hi"


# --- stock vcrpy cassettes -------------------------------------------------------------------

STOCK = """
interactions:
- request:
    body: '{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o-mini"}'
    headers:
      content-type:
      - application/json
    method: POST
    uri: https://api.openai.com/v1/chat/completions
  response:
    body:
      string: {body}
    headers:
      Content-Encoding:
      - gzip
      Content-Type:
      - application/json
    status:
      code: 200
      message: OK
version: 1
"""
REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
}


@pytest.mark.parametrize("stored", ["text", "binary"])
async def test_a_stock_cassette_with_a_decoded_body_under_a_gzip_header(stored: str, tmp_path: Path) -> None:
    data = json.dumps(REPLY)
    if stored == "text":
        body = "'" + data.replace("'", "''") + "'"
    else:
        import base64

        body = "!!binary |\n        " + base64.b64encode(data.encode()).decode()
    path = tmp_path / "stock.yaml"
    path.write_text(textwrap.dedent(STOCK).replace("{body}", body))
    with cassette(path) as used:
        done = await used.client(max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert done.choices[0].message.content == "hello"


def test_scripted_tool_call_arguments_with_sets_are_canonical() -> None:
    call = tool_call("tag", {"tags": {"zeta", "alpha", "mid"}, "nested": [{"ids": frozenset({3, 1, 2})}]})
    assert call.arguments == '{"tags":["alpha","mid","zeta"],"nested":[{"ids":[1,2,3]}]}'

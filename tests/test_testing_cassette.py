"""Cassettes: recording scrubs secrets, replay matches on the body, drift and leftovers fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from testing_projects import FAKE_COOKIE, FAKE_KEY, FAKE_ORG, FAKE_PROJECT

from agentkit.exceptions import CassetteNotFoundError, RequestMismatchError, UnplayedInteractionsError
from agentkit.testing import ScriptedModel, cassette, reply, tool_call

WIRE = Path(__file__).resolve().parents[2] / "shared" / "wire-recordings"

TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def real_client(base_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=FAKE_KEY,
        organization=FAKE_ORG,
        project=FAKE_PROJECT,
        base_url=base_url,
        default_headers={"Cookie": FAKE_COOKIE, "api-key": FAKE_KEY},
        max_retries=0,
    )


async def ask(client: openai.AsyncOpenAI, text: str, **extra: Any) -> str:
    done = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": text}],
        tools=[TOOL],  # type: ignore[list-item]
        **extra,
    )
    return done.choices[0].message.content or ""


async def test_canary_no_secret_reaches_the_file(server: str, tmp_path: Path) -> None:
    path = tmp_path / "canary.yaml"
    with cassette(path, record="once"):
        client = real_client(server)
        assert (
            await ask(client, "hello", metadata={"session_token": "canary-session-token"})
            == "You said: hello"
        )
    text = path.read_text()
    for secret in (FAKE_KEY, FAKE_ORG, FAKE_PROJECT, FAKE_COOKIE, "canary-cookie", "canary-session-token"):
        assert secret not in text
    assert "canary" not in text.lower()
    data = yaml.safe_load(text)
    request = data["interactions"][0]["request"]
    response = data["interactions"][0]["response"]
    assert {k.lower() for k in request["headers"]}.isdisjoint(
        {"authorization", "api-key", "cookie", "openai-organization", "openai-project"}
    )
    assert {k.lower() for k in response["headers"]}.isdisjoint(
        {"set-cookie", "openai-organization", "openai-project", "content-encoding"}
    )
    # Readable: JSON bodies are YAML mappings, gzip decoded.
    assert request["body"]["messages"] == [{"role": "user", "content": "hello"}]
    assert response["body"]["json"]["choices"][0]["message"]["content"] == "You said: hello"
    assert text.startswith("# Cassette written by agentkit.testing")
    assert "recorded from a local server" in text


async def test_replay_needs_no_server_and_no_key(server: str, tmp_path: Path) -> None:
    path = tmp_path / "replay.yaml"
    with cassette(path, record="once"):
        await ask(real_client(server), "hello")
    with cassette(path) as used:
        # The server URL is a different host: matching ignores hosts and headers.
        assert await ask(used.client(max_retries=0), "hello") == "You said: hello"


def test_missing_cassette_fails_in_replay_only_mode(tmp_path: Path) -> None:
    with (
        pytest.raises(CassetteNotFoundError, match="--agentkit-record=once"),
        cassette(tmp_path / "nope.yaml"),
    ):
        pass


async def record_two(server: str, path: Path) -> None:
    with cassette(path, record="once"):
        client = real_client(server)
        await ask(client, "first")
        await ask(client, "second")


async def test_a_changed_prompt_fails_with_a_diff(server: str, tmp_path: Path) -> None:
    path = tmp_path / "drift.yaml"
    await record_two(server, path)
    with cassette(path) as used:
        client = used.client(max_retries=0)
        await ask(client, "first")
        with pytest.raises(RequestMismatchError) as info:
            await ask(client, "second, reworded")
        # The first request matched and was played; the error is reported again on exit.
        with pytest.raises(RequestMismatchError):
            used.check()
    message = str(info.value)
    assert "messages[0] is the first messages item that differs" in message
    assert '"second, reworded"' in message and '"second"' in message
    assert "--agentkit-record=drifted" in message


async def test_a_changed_tool_schema_names_the_tool(server: str, tmp_path: Path) -> None:
    path = tmp_path / "tools.yaml"
    with cassette(path, record="once"):
        await ask(real_client(server), "hi")
    changed = json.loads(json.dumps(TOOL))
    changed["function"]["description"] = "Get the weather, in Celsius."
    with pytest.raises(RequestMismatchError) as info, cassette(path) as used:
        await used.client(max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], tools=[changed]
        )
    assert "the schema of 'get_weather' differs" in str(info.value)
    assert '+    "description": "Get the weather, in Celsius.",' in str(info.value)


async def test_volatile_fields_and_ignored_settings_do_not_matter(server: str, tmp_path: Path) -> None:
    path = tmp_path / "volatile.yaml"
    with cassette(path, record="once"):
        await ask(real_client(server), "hi", user="alice", temperature=0.2)
    with cassette(path, ignore=["temperature"]) as used:
        await ask(used.client(), "hi", user="bob", temperature=0.9)


async def test_unplayed_interactions_fail_on_exit(server: str, tmp_path: Path) -> None:
    path = tmp_path / "unplayed.yaml"
    await record_two(server, path)
    with pytest.raises(UnplayedInteractionsError, match="1 recorded interaction"), cassette(path) as used:
        await ask(used.client(), "first")


async def test_drifted_mode_rerecords_only_what_changed(server: str, tmp_path: Path) -> None:
    path = tmp_path / "rerecord.yaml"
    await record_two(server, path)
    before = path.read_text()
    # Nothing drifted: the file is left alone.
    with cassette(path, record="drifted"):
        client = real_client(server)
        await ask(client, "first")
        await ask(client, "second")
    assert path.read_text() == before
    # The second request changed: the first answer is kept, the second is recorded anew.
    with cassette(path, record="drifted"):
        client = real_client(server)
        await ask(client, "first")
        assert await ask(client, "second, reworded") == "You said: second, reworded"
    bodies = [
        i["request"]["body"]["messages"][0]["content"]
        for i in yaml.safe_load(path.read_text())["interactions"]
    ]
    assert bodies == ["first", "second, reworded"]
    with cassette(path) as used:
        await ask(used.client(), "first")
        await ask(used.client(), "second, reworded")


async def test_a_scripted_recording_says_so_in_its_header(tmp_path: Path) -> None:
    path = tmp_path / "scripted.yaml"
    model = ScriptedModel([reply(tool_calls=[tool_call("get_weather", {"city": "Paris"})]), reply("Sunny.")])
    with cassette(path, record="once"):
        client = model.client()
        await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], stream=True
        )
        await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "y"}])
    text = path.read_text()
    assert "produced by agentkit.testing.ScriptedModel" in text
    assert "data: {" in text and "|" in text, "SSE bodies are stored as literal text blocks"
    with cassette(path, allow_repeats=True) as used:
        assert [c.name for c in used.tool_calls] == ["get_weather"]
        assert used.turns[0].stream and used.turns[1].text == "Sunny."


@pytest.mark.skipif(not WIRE.is_dir(), reason="../shared/wire-recordings is not present")
@pytest.mark.parametrize(
    "name",
    [
        "simonw-llm__test_tool_use_chain_of_two_calls.yaml",  # gzip !!binary bodies
        "otelcontrib__test_chat_completion_tool_calls_with_content.yaml",  # pretty-printed JSON
        "mirascope__test_call_with_tools__openai_gpt_4o_responses__stream.yaml",  # SSE text
    ],
)
async def test_stock_vcrpy_cassettes_load_and_replay(name: str) -> None:
    path = WIRE / name
    before = path.read_bytes()
    with cassette(path) as used:
        client = used.client(max_retries=0)
        for turn in used.turns:
            if turn.endpoint == "/responses":
                stream = await client.responses.create(**turn.request)
                events = [event.type async for event in stream]
                assert events[-1] == "response.completed"
            else:
                done = await client.chat.completions.create(**turn.request)
                assert done.choices
    assert path.read_bytes() == before, "replaying never rewrites a cassette"


def test_recorded_tools_runs_tools_when_recording_and_never_when_replaying(tmp_path: Path) -> None:
    from agentkit import Agent, tool

    sent: list[str] = []

    @tool
    def send_email(to: str) -> str:
        """Send an e-mail.

        Args:
            to: Recipient.
        """
        sent.append(to)
        return f"sent to {to}"

    agent = Agent(tools=[send_email])
    path = tmp_path / "notify.yaml"
    script = [reply(tool_calls=[tool_call("send_email", {"to": "bob@example.com"}, id="c1")]), reply("Sent.")]

    # Recording: the real tool runs once and its result goes into the cassette.
    with (
        cassette(path, record="all") as tape,
        ScriptedModel(script).install(),
        tape.recorded_tools(agent) as calls,
    ):
        assert agent.run_sync("notify bob").output == "Sent."
    assert sent == ["bob@example.com"]
    assert [(c.name, c.tool_call_id) for c in calls] == [("send_email", "c1")]

    # Replaying: the recorded result answers the call; the function never runs.
    with cassette(path) as tape, tape.recorded_tools(agent) as calls:
        result = agent.run_sync("notify bob")
    assert result.output == "Sent." and sent == ["bob@example.com"]
    assert [m["content"] for m in result.messages if m["role"] == "tool"] == ["sent to bob@example.com"]
    # The agent itself was never changed.
    assert agent.tools[0] is send_email


def test_ordinary_words_after_basic_or_bearer_are_kept_and_replay(tmp_path: Path) -> None:
    from agentkit import Agent

    agent = Agent(model="gpt-4o-mini")
    path = tmp_path / "basic.yaml"
    prompt = "Explain basic arithmetic. Basic Internationalization too, and bearer bonds."
    with ScriptedModel([reply("ok")]).install(), cassette(path, record="all"):
        agent.run_sync(prompt)
    assert prompt in path.read_text()
    with cassette(path):
        assert agent.run_sync(prompt).output == "ok"


def test_a_prompt_holding_a_secret_looking_value_still_replays(tmp_path: Path) -> None:
    from agentkit import Agent

    agent = Agent(model="gpt-4o-mini")
    path = tmp_path / "secret.yaml"
    prompt = f"Is {FAKE_KEY} a valid key? The header was Bearer {FAKE_KEY[3:]}, the org {FAKE_ORG}."
    with ScriptedModel([reply("No.")]).install(), cassette(path, record="all"):
        agent.run_sync(prompt)
    text = path.read_text()
    assert FAKE_KEY not in text and FAKE_KEY[3:] not in text and FAKE_ORG not in text
    with cassette(path):
        assert agent.run_sync(prompt).output == "No."
    with pytest.raises(RequestMismatchError), cassette(path):
        agent.run_sync(prompt.replace("valid", "real"))


def test_record_all_rewrites_the_file(tmp_path: Path) -> None:
    from agentkit import Agent

    path = tmp_path / "all.yaml"
    for prompt, answer in (("hi", "first"), ("hello", "second")):
        with cassette(path, record="all"), ScriptedModel([reply(answer)]).install():
            assert Agent().run_sync(prompt).output == answer
    # The first recording is gone (stock vcrpy would keep it beside the new one).
    recorded = yaml.safe_load(path.read_text())["interactions"]
    assert len(recorded) == 1
    with cassette(path):
        assert Agent().run_sync("hello").output == "second"


def test_record_new_after_a_prompt_change_says_the_old_recordings_are_stale(tmp_path: Path) -> None:
    from agentkit import Agent

    path = tmp_path / "new.yaml"
    with cassette(path, record="all"), ScriptedModel([reply("old")]).install():
        Agent().run_sync("old prompt")
    with (
        pytest.raises(UnplayedInteractionsError, match="the requests changed") as info,
        cassette(path, record="new"),
        ScriptedModel([reply("new")]).install(),
    ):
        Agent().run_sync("new prompt")
    assert "drifted" in str(info.value)


# --- only model traffic, in a project that tests its own web service ---

SERVICE_TESTS = """
import urllib.request

from conftest import HITS

QUESTIONS = ["hello", "how are you", "what is new", "bye now", "thanks"]


def ask(app_url, question):
    request = urllib.request.Request(app_url + "/chat", data=question.encode(), method="POST")
    return urllib.request.urlopen(request, timeout=10).read().decode()


def test_chat(agent_cassette, app_url):
    for question in QUESTIONS:
        assert ask(app_url, question) == "model says: " + question
    assert HITS["app"] == len(QUESTIONS)  # the service itself ran, every time
"""


def test_cassettes_record_the_model_and_let_the_service_through(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testing_projects import INI, SERVERS

    pytester.makeconftest(SERVERS)
    pytester.makeini(INI)
    pytester.makepyfile(test_service=SERVICE_TESTS)
    recorded = pytester.runpytest_subprocess("--agentkit-record=once")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(
        [
            "*agentkit cassettes (--agentkit-record=once)*",
            "*written: cassettes/test_service/test_chat.yaml",
            "1 written, 0 rewritten, 0 left alone",
        ]
    )
    data = yaml.safe_load((pytester.path / "cassettes" / "test_service" / "test_chat.yaml").read_text())
    # The model's base URL is on 127.0.0.1 like the service: the SDK's headers tell them apart.
    # Every model call made from the service's thread is there, and nothing else.
    assert [i["request"]["uri"].split("/", 3)[-1] for i in data["interactions"]] == [
        "v1/chat/completions"
    ] * 5
    # Replay with the model down: the service runs for real, the cassette answers its model calls.
    monkeypatch.setenv("MODEL_DOWN", "1")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    # Re-recording what still matches leaves the file alone, and says so.
    monkeypatch.delenv("MODEL_DOWN")
    again = pytester.runpytest_subprocess("--agentkit-record=drifted")
    again.stdout.fnmatch_lines(
        ["*left alone: cassettes/test_service/test_chat.yaml", "0 written, 0 rewritten, 1 left alone"]
    )


@pytest.mark.parametrize("name", ["weather.yaml", "support_bot.yaml"])
def test_the_writer_rewrites_a_shipped_cassette_byte_for_byte(name: str) -> None:
    from agentkit.testing._format import serializer

    text = (Path(__file__).resolve().parents[1] / "examples" / "cassettes" / name).read_text(encoding="utf-8")
    assert serializer.serialize(serializer.deserialize(text)) == text
    assert "user-agent" not in text.lower() and "x-stainless" not in text.lower()

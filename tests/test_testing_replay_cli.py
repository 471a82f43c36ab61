"""``agentkit replay CASSETTE`` prints a readable transcript."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

import agentkit.testing
from agentkit._cli import main
from agentkit.testing import ScriptedModel, ScriptedRequest, cassette, reply, tool_call

WIRE = Path(__file__).resolve().parents[2] / "shared" / "wire-recordings"


async def test_transcript_of_a_scripted_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.yaml"
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("get_weather", {"city": "Paris"})], usage=(20, 7)),
            reply("Sunny, 22 C."),
        ]
    )
    with cassette(path, record="once"):
        client = model.client()
        history: list[dict[str, object]] = [{"role": "user", "content": "Weather in Paris?"}]
        first = await client.chat.completions.create(model="gpt-4o-mini", messages=history)  # type: ignore[arg-type]
        history.append(first.choices[0].message.model_dump(exclude_none=True))
        history.append({"role": "tool", "tool_call_id": "call_1", "content": "22 C and sunny"})
        await client.chat.completions.create(model="gpt-4o-mini", messages=history, stream=True)  # type: ignore[arg-type]
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    expected = [
        "request 1: POST /chat/completions · gpt-4o-mini · whole",
        "  user: Weather in Paris?",
        '    -> get_weather(city="Paris")  [call_1]',
        "usage: 20 input, 7 output, 27 total tokens",
        "request 2: POST /chat/completions · gpt-4o-mini · streamed",
        "    <- get_weather [call_1]: 22 C and sunny",
        "  assistant: Sunny, 22 C.",
    ]
    positions = [out.index(line) for line in expected]
    assert positions == sorted(positions), out


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "nope.yaml")]) == 2
    assert "no such cassette" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions: [unclosed\n", encoding="utf-8")
    assert main(["replay", str(broken)]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.skipif(not WIRE.is_dir(), reason="../shared/wire-recordings is not present")
def test_transcript_of_a_real_responses_stream(capsys: pytest.CaptureFixture[str]) -> None:
    path = WIRE / "mirascope__test_call_with_tools__openai_gpt_4o_responses__stream.yaml"
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert 'secret_retrieval_tool(password="mellon")' in out
    assert "<- secret_retrieval_tool [call_sKC7OABqf2A2PTLCm0CLeRWV]: Welcome to Moria!" in out
    assert "usage: 136 input, 32 output, 168 total tokens" in out


def test_public_names_are_pinned() -> None:
    assert agentkit.testing.__all__ == [
        "APIErrorReply",
        "Cassette",
        "RecordMode",
        "Reply",
        "ScriptedModel",
        "ScriptedRequest",
        "ToolCallReply",
        "allow_network",
        "api_error",
        "block_network",
        "cassette",
        "reply",
        "tool_call",
    ]


def test_concurrent_conversations_print_each_on_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from agentkit import Agent, tool

    @tool
    def order_status(order: int) -> str:
        """Look an order up.

        Args:
            order: Order number.
        """
        return f"order {order} shipped"

    agent = Agent(model="gpt-4o-mini", instructions="You are the order desk.", tools=[order_status])

    def answer(request: ScriptedRequest) -> object:
        last = request["messages"][-1]
        if last["role"] == "user":
            order = int(last["content"].rsplit("#", 1)[1].rstrip("?"))
            return reply(tool_calls=[tool_call("order_status", {"order": order}, id=f"call_{order}")])
        return reply(f"Your {last['content']}.")

    async def customers() -> None:
        await asyncio.gather(*(agent.run(f"Where is order #{n}?") for n in (101, 202, 303)))

    path = tmp_path / "desk.yaml"
    with cassette(path, record="all"), ScriptedModel(answer).install():  # type: ignore[arg-type]
        asyncio.run(customers())
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "6 request(s), 3 conversations" in out
    sections = out.split("══ conversation ")[1:]
    assert len(sections) == 3
    for n in (101, 202, 303):
        (section,) = [s for s in sections if f"#{n}" in s]
        # Each conversation holds its own question, call, result and answer, and no one else's.
        assert f"-> order_status(order={n})  [call_{n}]" in section
        assert f"<- order_status [call_{n}]: order {n} shipped" in section
        assert f"assistant: Your order {n} shipped." in section
        assert all(f"#{other}" not in section for other in (101, 202, 303) if other != n)


def test_requests_that_are_not_to_the_model_print_as_method_and_url(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import urllib.error
    import urllib.request

    path = tmp_path / "mixed.yaml"
    host = server.split("//", 1)[1].split("/", 1)[0]
    with cassette(path, record="once", record_hosts=["127.0.0.1"]):
        # The fake server answers POST only (501 here); the request is recorded whatever it says.
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://{host}/v1/health?check=db", timeout=5)
        ScriptedModel([reply("fine")]).sync_client().chat.completions.create(
            model="m", messages=[{"role": "user", "content": "ok?"}]
        )
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"── request 1: GET http://{host}/v1/health?check=db → HTTP 501" in out
    assert "── request 2: POST /chat/completions · m · whole" in out

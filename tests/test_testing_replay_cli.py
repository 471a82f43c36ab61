"""``agentkit replay CASSETTE`` prints a readable transcript."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentkit.testing
from agentkit._cli import main
from agentkit.testing import ScriptedModel, cassette, reply, tool_call

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
        "user: Weather in Paris?",
        'assistant → get_weather({"city": "Paris"}) [call_1]',
        "usage: 20 input, 7 output, 27 total tokens",
        "request 2: POST /chat/completions · gpt-4o-mini · streamed",
        "tool result [call_1]: 22 C and sunny",
        "assistant: Sunny, 22 C.",
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
    assert 'secret_retrieval_tool({"password": "mellon"})' in out
    assert "tool result [call_sKC7OABqf2A2PTLCm0CLeRWV]: Welcome to Moria!" in out
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

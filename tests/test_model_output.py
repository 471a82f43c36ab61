"""What OpenAI-compatible servers send is normalised where it enters (issue: nine fault classes,
§1 and §5): odd tool-call deltas, missing or repeated ids, broken streams."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from raw_model import RawModel, chat_json, chunk, final_text, sse

from agentkit import Agent, tool
from agentkit.exceptions import StreamInterruptedError
from agentkit.sessions import MemorySession

READS: list[str] = []


@tool
def read_file(path: str) -> str:
    """Read a file.

    Args:
        path: The file's path.
    """
    READS.append(path)
    return f"contents of {path}"


@pytest.fixture(autouse=True)
def _clear() -> None:
    READS.clear()


def _results(body: dict[str, Any]) -> dict[str, str]:
    return {m["tool_call_id"]: m["content"] for m in body["messages"] if m["role"] == "tool"}


def _call_ids(body: dict[str, Any]) -> list[str]:
    assistant = [m for m in body["messages"] if m["role"] == "assistant"][-1]
    return [tc["id"] for tc in assistant["tool_calls"]]


async def _run(model: RawModel, *, stream: bool) -> Any:
    agent = Agent(tools=[read_file], client=model.client())
    if not stream:
        return await agent.run("read both")
    result = None
    async for event in agent.run_stream("read both"):
        result = getattr(event, "result", result)
    return result


def _delta(call_id: str | None, name: str | None, arguments: str, index: Any = 0) -> dict[str, Any]:
    entry: dict[str, Any] = {"function": {}}
    if index is not ...:
        entry["index"] = index
    if call_id is not None:
        entry["id"] = call_id
        entry["type"] = "function"
    if name is not None:
        entry["function"]["name"] = name
    entry["function"]["arguments"] = arguments
    return chunk({"tool_calls": [entry]})


async def test_two_calls_on_one_index_with_different_ids_are_two_calls() -> None:
    model = RawModel(
        [
            sse(
                _delta("call_a", "read_file", '{"path":"a.txt"}'),
                _delta("call_b", "read_file", '{"path":"b.txt"}'),
                chunk({}, "tool_calls"),
            ),
            final_text(),
        ]
    )
    await _run(model, stream=True)
    assert READS == ["a.txt", "b.txt"]
    assert _results(model.requests[1]) == {"call_a": "contents of a.txt", "call_b": "contents of b.txt"}


async def test_a_new_id_mid_arguments_continues_the_same_call() -> None:
    # Some servers repeat (or vary) the id on every fragment: incomplete JSON means same call.
    model = RawModel(
        [
            sse(
                _delta("call_a", "read_file", '{"pa'),
                _delta("call_a2", None, 'th":"a.txt"}'),
                chunk({}, "tool_calls"),
            ),
            final_text(),
        ]
    )
    await _run(model, stream=True)
    assert READS == ["a.txt"]


@pytest.mark.parametrize("index", [..., None], ids=["missing", "null"])
async def test_deltas_without_an_index(index: Any) -> None:
    model = RawModel(
        [
            sse(
                _delta("call_a", "read_file", '{"path":', index),
                _delta(None, None, '"a.txt"}', index),
                _delta("call_b", "read_file", '{"path":"b.txt"}', index),
                chunk({}, "tool_calls"),
            ),
            final_text(),
        ]
    )
    await _run(model, stream=True)
    assert READS == ["a.txt", "b.txt"]


@pytest.mark.parametrize("stream", [False, True])
async def test_missing_empty_and_repeated_ids_become_unique(stream: bool) -> None:
    calls = [
        {"type": "function", "function": {"name": "read_file", "arguments": '{"path":"1"}'}},
        {"id": "", "type": "function", "function": {"name": "read_file", "arguments": '{"path":"2"}'}},
        {"id": "dup", "type": "function", "function": {"name": "read_file", "arguments": '{"path":"3"}'}},
        {"id": "dup", "type": "function", "function": {"name": "read_file", "arguments": '{"path":"4"}'}},
    ]
    if stream:
        first = sse(
            *[chunk({"tool_calls": [{"index": i, **c}]}) for i, c in enumerate(calls)],
            chunk({}, "tool_calls"),
        )
    else:
        first = chat_json({"content": None, "tool_calls": calls}, "tool_calls")
    model = RawModel([first, final_text()])
    await _run(model, stream=stream)
    assert sorted(READS) == ["1", "2", "3", "4"]
    ids = _call_ids(model.requests[1])
    assert len(set(ids)) == 4 and all(ids)
    assert set(_results(model.requests[1])) == set(ids)
    assert ids[2] == "dup"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_numbers_are_not_json(literal: str) -> None:
    seen: list[float] = []

    @tool
    def scale(factor: float) -> str:
        """Scale.

        Args:
            factor: The factor.
        """
        seen.append(factor)
        return "ok"

    model = RawModel(
        [
            chat_json(
                {
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "scale", "arguments": f'{{"factor": {literal}}}'},
                        }
                    ]
                },
                "tool_calls",
            ),
            final_text(),
        ]
    )
    await Agent(tools=[scale], client=model.client()).run("go")
    assert seen == []
    assert "invalid JSON" in _results(model.requests[1])["c1"]


@pytest.mark.parametrize("stream", [False, True])
async def test_deeply_nested_arguments_are_rejected_as_data(stream: bool) -> None:
    deep = '{"path":' + "[" * 5000 + "]" * 5000 + "}"
    call = {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": deep}}
    if stream:
        first = sse(chunk({"tool_calls": [{"index": 0, **call}]}), chunk({}, "tool_calls"))
    else:
        first = chat_json({"tool_calls": [call]}, "tool_calls")
    model = RawModel([first, final_text()])
    await _run(model, stream=stream)
    assert READS == []
    result = _results(model.requests[1])["c1"]
    assert "Invalid arguments" in result


async def test_oversized_arguments_are_rejected_as_data() -> None:
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "read_file", "arguments": json.dumps({"path": "x" * 5000})},
    }
    model = RawModel([chat_json({"tool_calls": [call]}, "tool_calls"), final_text()])
    await Agent(tools=[read_file], client=model.client(), max_argument_chars=1000).run("go")
    assert READS == []
    assert "the limit is 1000" in _results(model.requests[1])["c1"]


# --- §5: a stream that breaks is an error, never a shorter answer ---


async def test_stream_that_ends_without_finish_reason_is_interrupted() -> None:
    model = RawModel([sse(chunk({"content": "The answer "}), done=False)])
    session = MemorySession("t")
    agent = Agent(client=model.client())
    with pytest.raises(StreamInterruptedError) as info:
        async for _ in agent.run_stream("q", session=session):
            pass
    assert [m["role"] for m in info.value.messages] == ["user"]
    assert [m["role"] for m in await session.load()] == ["user"]


async def test_half_written_tool_call_in_a_broken_stream_is_not_stored_or_run() -> None:
    model = RawModel([sse(_delta("c1", "read_file", '{"path": "a'), done=False)])
    session = MemorySession("t")
    with pytest.raises(StreamInterruptedError):
        async for _ in Agent(tools=[read_file], client=model.client()).run_stream("q", session=session):
            pass
    assert READS == []
    assert [m["role"] for m in await session.load()] == ["user"]


async def test_malformed_event_is_interrupted_not_a_json_error() -> None:
    model = RawModel([sse(chunk({"content": "Hi"}), "{not json", chunk({}, "stop"))])
    with pytest.raises(StreamInterruptedError, match="JSONDecodeError"):
        async for _ in Agent(client=model.client()).run_stream("q"):
            pass


async def test_error_event_mid_stream_keeps_the_sdk_class_and_carries_the_transcript() -> None:
    error = {
        "error": {"message": "Rate limit reached", "type": "rate_limit_error", "code": "rate_limit_exceeded"}
    }
    model = RawModel([sse(chunk({"content": "Hi"}), error)])
    with pytest.raises(openai.APIError) as info:
        async for _ in Agent(client=model.client()).run_stream("q"):
            pass
    assert "Rate limit reached" in str(info.value)
    assert info.value.messages == [{"role": "user", "content": "q"}]  # type: ignore[attr-defined]
    assert info.value.usage.requests == 0  # type: ignore[attr-defined]


async def test_responses_stream_without_final_event_is_interrupted() -> None:
    delta = {
        "type": "response.output_text.delta",
        "delta": "The answer",
        "output_index": 0,
        "content_index": 0,
        "item_id": "m1",
        "sequence_number": 1,
    }
    model = RawModel([sse(delta, done=False)])
    with pytest.raises(StreamInterruptedError):
        async for _ in Agent(api="responses", client=model.client()).run_stream("q"):
            pass


async def test_responses_call_without_call_id_gets_one() -> None:
    first = {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "model": "gpt-4o-mini",
        "output": [
            {"type": "function_call", "id": "fc_1", "name": "read_file", "arguments": '{"path":"a.txt"}'}
        ],
        "usage": {"input_tokens": 5, "output_tokens": 5, "total_tokens": 10},
    }
    last = {
        **first,
        "output": [
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}
        ],
    }
    model = RawModel(
        [
            (200, "application/json", json.dumps(first).encode()),
            (200, "application/json", json.dumps(last).encode()),
        ]
    )
    result = await Agent(api="responses", tools=[read_file], client=model.client()).run("q")
    assert result.output == "ok"
    sent = model.requests[1]["input"]
    call = next(i for i in sent if i.get("type") == "function_call")
    output = next(i for i in sent if i.get("type") == "function_call_output")
    assert call["call_id"] and call["call_id"] == output["call_id"]

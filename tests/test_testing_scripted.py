"""The scripted model answers through the real openai SDK, in both APIs, whole and streamed."""

from __future__ import annotations

import json
from typing import Any, Literal

import openai
import pytest

from agentkit import Agent, tool
from agentkit.testing import ScriptedModel, ScriptedRequest, api_error, reply, tool_call

USER = [{"role": "user", "content": "Weather in Paris and Tokyo?"}]


def two_calls() -> ScriptedModel:
    return ScriptedModel(
        [
            reply(
                tool_calls=[
                    tool_call("get_weather", {"city": "Paris"}),
                    tool_call("get_weather", '{"city": "Tokyo"}', id="call_tokyo"),
                ]
            ),
            reply("It is sunny.", usage=(12, 5)),
        ]
    )


async def test_chat_completion_with_tool_calls_and_text() -> None:
    model = two_calls()
    client = model.client()
    first = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
    calls = first.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [  # type: ignore[union-attr]
        ("call_1", "get_weather", '{"city":"Paris"}'),
        ("call_tokyo", "get_weather", '{"city": "Tokyo"}'),
    ]
    assert first.choices[0].finish_reason == "tool_calls"
    second = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
    assert second.choices[0].message.content == "It is sunny."
    assert second.choices[0].finish_reason == "stop"
    assert second.usage is not None
    usage = second.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 5, 17)
    model.assert_complete()


async def test_chat_stream_splits_arguments_by_index_and_reports_usage() -> None:
    model = two_calls()
    client = model.client()
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    fragments: dict[int, list[str]] = {}
    ids: dict[int, str] = {}
    chunks = [chunk async for chunk in stream]
    for chunk in chunks:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or ():
                if tc.id:
                    ids[tc.index] = tc.id
                if tc.function and tc.function.arguments:
                    fragments.setdefault(tc.index, []).append(tc.function.arguments)
    assert ids == {0: "call_1", 1: "call_tokyo"}
    assert "".join(fragments[0]) == '{"city":"Paris"}'
    assert "".join(fragments[1]) == '{"city": "Tokyo"}'
    assert len(fragments[0]) > 1, "arguments arrive in several fragments, as on the wire"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-2].choices[0].finish_reason == "tool_calls"


async def test_chat_stream_text_and_no_usage_chunk_without_include_usage() -> None:
    model = ScriptedModel([reply("Hello there, world.")])
    stream = await model.client().chat.completions.create(model="m", messages=USER, stream=True)  # type: ignore[arg-type]
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello there, world."
    assert all(c.choices for c in chunks)


async def test_responses_function_calls_and_message() -> None:
    model = two_calls()
    client = model.client()
    first = await client.responses.create(model="gpt-4o", input="Weather?")
    items = [item.model_dump() for item in first.output]
    assert [(i["type"], i["id"], i["call_id"], i["arguments"]) for i in items] == [
        ("function_call", "fc_1", "call_1", '{"city":"Paris"}'),
        ("function_call", "fc_tokyo", "call_tokyo", '{"city": "Tokyo"}'),
    ]
    second = await client.responses.create(model="gpt-4o", input="Weather?")
    assert second.output_text == "It is sunny."
    assert second.usage is not None and second.usage.input_tokens == 12


async def test_responses_stream_has_the_real_event_sequence() -> None:
    model = ScriptedModel([reply("Checking.", tool_calls=[tool_call("lookup", {"q": "x"})], usage=(3, 4))])
    async with model.client().responses.stream(model="gpt-4o", input="hi") as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    for kind in (
        "response.output_item.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ):
        assert kind in kinds
    assert final.output_text == "Checking."
    assert final.usage is not None and final.usage.output_tokens == 4
    call = final.output[1].model_dump()
    assert (call["name"], call["arguments"], call["call_id"]) == ("lookup", '{"q":"x"}', "call_1")


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (404, openai.NotFoundError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
    ],
)
async def test_errors_surface_as_the_sdks_own_exceptions(status: int, error_type: type[Exception]) -> None:
    model = ScriptedModel([api_error(status, message="scripted failure")])
    with pytest.raises(error_type) as info:
        await model.client().chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    assert isinstance(info.value, openai.APIStatusError)
    assert info.value.status_code == status
    assert "scripted failure" in str(info.value)
    assert isinstance(info.value.body, dict) and info.value.body["message"] == "scripted failure"


async def test_a_streamed_request_gets_an_error_too() -> None:
    model = ScriptedModel([api_error(429)])
    with pytest.raises(openai.RateLimitError):
        await model.client().responses.create(model="m", input="x", stream=True)


async def test_retries_are_configurable() -> None:
    model = ScriptedModel([api_error(500, headers={"retry-after-ms": "1"}), reply("ok")])
    done = await model.client(max_retries=1).chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    assert done.choices[0].message.content == "ok"
    assert len(model.requests) == 2


async def test_requests_are_recorded_with_path_and_body() -> None:
    model = two_calls()
    client = model.client()
    await client.chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=0)  # type: ignore[arg-type]
    await client.responses.create(model="gpt-4o", input="hi")
    first, second = model.requests
    assert first.path == "/chat/completions" and first.api == "chat"
    assert first["messages"] == USER and first["temperature"] == 0
    assert second.path == "/responses" and second["input"] == "hi"


async def test_a_function_script_sees_each_request() -> None:
    def answer(request: ScriptedRequest) -> Any:
        last = request["messages"][-1]
        if last["role"] == "tool":
            return reply(f"The tool said {last['content']}")
        return reply(tool_calls=[tool_call("echo", {"text": last["content"]})])

    model = ScriptedModel(answer)
    client = model.client()
    first = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    call = (first.choices[0].message.tool_calls or [])[0]
    assert json.loads(call.function.arguments) == {"text": "hi"}  # type: ignore[union-attr]
    second = await client.chat.completions.create(
        model="m",
        messages=[
            {"role": "user", "content": "hi"},
            first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": "HI"},
        ],
    )
    assert second.choices[0].message.content == "The tool said HI"
    model.assert_complete()  # a function never runs out


async def test_assert_complete_reports_unused_replies() -> None:
    model = two_calls()
    await model.client().chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="1 scripted reply was never requested"):
        model.assert_complete()


async def test_running_out_of_script_is_a_clear_failure() -> None:
    model = ScriptedModel([reply("only one")])
    client = model.client()
    await client.chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="the script ran out: request #2"):
        await client.chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]


def test_sync_client() -> None:
    model = ScriptedModel([reply("sync works")])
    done = model.sync_client().chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    assert done.choices[0].message.content == "sync works"


async def test_auto_ids_skip_explicit_ones() -> None:
    model = ScriptedModel([reply(tool_calls=[tool_call("a", id="call_1"), tool_call("b")])])
    done = await model.client().chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    assert [c.id for c in done.choices[0].message.tool_calls or []] == ["call_1", "call_2"]


async def test_truncated_reply() -> None:
    model = ScriptedModel([reply("cut", finish_reason="length"), reply("cut", finish_reason="length")])
    client = model.client()
    chat = await client.chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    assert chat.choices[0].finish_reason == "length"
    response = await client.responses.create(model="m", input="x")
    assert response.status == "incomplete"


async def test_install_overrides_the_default_client() -> None:
    model = ScriptedModel([reply("installed")])
    with model.install() as client:
        assert Agent().client is client


@tool
def get_weather(city: str) -> str:
    """Get the weather.

    Args:
        city: The city.
    """
    return f"sunny in {city}"


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("stream", [False, True])
async def test_plugs_into_an_agent_without_changing_it(
    api: Literal["chat", "responses"], stream: bool
) -> None:
    agent = Agent(model="gpt-4o-mini", tools=[get_weather], api=api)
    model = two_calls()
    with model.install():
        if stream:
            result = None
            async for event in agent.run_stream("Weather in Paris and Tokyo?"):
                result = getattr(event, "result", result)
        else:
            result = await agent.run("Weather in Paris and Tokyo?")
    assert result is not None and result.output == "It is sunny."
    model.assert_complete()
    follow_up = model.requests[1]
    items = follow_up["messages"] if api == "chat" else follow_up["input"]
    results = [i.get("content", i.get("output")) for i in items if i.get("role") == "tool" or "output" in i]
    assert results == ["sunny in Paris", "sunny in Tokyo"]

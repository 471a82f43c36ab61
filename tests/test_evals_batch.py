"""Batch API mode of ``evaluate`` against the loopback fake of the files and batches endpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openai import AsyncOpenAI
from openai_fake_api import FakeOpenAI, serve

from agentkit import Agent, tool
from agentkit.evals import Case, evaluate


@tool
def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city's name.
    """
    return city


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    if body["model"] == "missing-model":
        raise KeyError("The model 'missing-model' does not exist")
    question = body["messages"][-1]["content"]
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if "Paris" in question:
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ]
    else:
        message["content"] = "hello"
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    }


CASES = [
    Case("Weather in Paris?", [{"name": "get_weather", "arguments": {"city": "Paris"}}], id="paris"),
    Case("Say hello", [], "hello", id="hello"),
]


async def test_batch_mode_maps_outputs_and_errors_back(tmp_path: Path) -> None:
    state = FakeOpenAI(answer=_completion)
    with serve(state) as base_url:
        async with AsyncOpenAI(
            api_key="sk-fake-key-for-loopback", base_url=base_url, max_retries=0
        ) as client:
            agents = {
                "mini": Agent("gpt-4o-mini", instructions="Be brief.", tools=[get_weather], client=client),
                "missing": Agent("missing-model", tools=[get_weather], client=client),
            }
            results = tmp_path / "results.jsonl"
            report = await evaluate(agents, CASES, mode="batch", poll_interval=0, results_path=results)
    create = next(body for _, path, body in state.requests if path == "/batches")
    assert create["endpoint"] == "/v1/chat/completions" and create["completion_window"] == "24h"
    lines = [json.loads(x) for x in state.files[create["input_file_id"]]["_data"].decode().splitlines()]
    assert {line["method"] for line in lines} == {"POST"} and len({line["custom_id"] for line in lines}) == 4
    assert lines[0]["body"]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert lines[0]["body"]["tools"][0]["function"]["name"] == "get_weather"
    mini, missing = report.metrics["mini"], report.metrics["missing"]
    assert mini.tool_selection_accuracy == 1.0 and mini.argument_exact_match == 1.0
    assert mini.final_answer_score == 1.0 and mini.input_tokens == 200
    assert mini.cost_usd is not None  # at the Batch discount
    assert missing.errors == 2 and all(
        "model_not_found" in (r.error or "") for r in report.results if r.variant == "missing"
    )
    assert len(results.read_text().splitlines()) == 4 and not Path(f"{results}.batch").exists()

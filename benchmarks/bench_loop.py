"""Loop overhead of agentkit against a hand-written loop on the raw ``openai`` SDK.

Both talk to the same in-process fake server (an ``httpx2.MockTransport`` that scripts tool
calls), so the numbers are framework + SDK cost only. Printed as ratios against the raw loop
measured in the same run.

    python benchmarks/bench_loop.py            # about 30 s
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import httpx2
import openai

from agentkit import Agent, tool

TURNS = 20


def _fake_server(calls_per_turn: int, turns: int) -> httpx2.MockTransport:
    """A stateless fake: the turn is the number of assistant messages in the request."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        messages = body["messages"]
        turn = sum(1 for m in messages if m["role"] == "assistant")
        if turn < turns:
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{turn}_{i}",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": json.dumps({"key": f"k{turn}_{i}"})},
                    }
                    for i in range(calls_per_turn)
                ],
            }
            finish = "tool_calls"
        else:
            results = sum(1 for m in messages if m["role"] == "tool")
            message = {"role": "assistant", "content": f"FINAL results={results}"}
            finish = "stop"
        return httpx2.Response(
            200,
            json={
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            },
        )

    return httpx2.MockTransport(handle)


def _client(calls: int, turns: int) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key="bench",
        base_url="http://fake.local/v1",
        http_client=httpx2.AsyncClient(transport=_fake_server(calls, turns)),
        max_retries=0,
    )


async def _lookup_body(key: str, delay: float) -> str:
    if delay:
        await asyncio.sleep(delay)
    return f"value-of-{key}"


LOOKUP_SCHEMA = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look up a key.",
        "parameters": {
            "type": "object",
            "properties": {"key": {"type": "string"}},
            "required": ["key"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


async def raw_loop(client: openai.AsyncOpenAI, prompt: str, delay: float) -> str:
    """What a careful user writes by hand on the SDK."""
    messages: list[Any] = [{"role": "user", "content": prompt}]
    while True:
        completion = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,
            tools=[LOOKUP_SCHEMA],  # type: ignore[list-item]
        )
        message = completion.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        outputs = await asyncio.gather(
            *(
                _lookup_body(json.loads(tc.function.arguments)["key"], delay)  # type: ignore[union-attr]
                for tc in message.tool_calls
            )
        )
        for tc, out in zip(message.tool_calls, outputs, strict=True):
            messages.append({"role": "tool", "tool_call_id": tc.id, "content": out})


def make_agent(client: openai.AsyncOpenAI, delay: float) -> Agent[Any, Any]:
    @tool
    async def lookup(key: str) -> str:
        """Look up a key.

        Args:
            key: The key.
        """
        return await _lookup_body(key, delay)

    return Agent("gpt-4o-mini", tools=[lookup], client=client, max_turns=50)


async def measure(label: str, calls: int, turns: int, delay: float, reps: int) -> None:
    raw_client = _client(calls, turns)
    ak_client = _client(calls, turns)
    agent = make_agent(ak_client, delay)
    expected = f"FINAL results={calls * turns}"
    samples: dict[str, list[float]] = {"raw": [], "agentkit": []}
    for i in range(reps + 2):
        for name in ["raw", "agentkit"] if i % 2 else ["agentkit", "raw"]:
            start = time.perf_counter()
            if name == "raw":
                out = await raw_loop(raw_client, "go", delay)
            else:
                out = (await agent.run("go")).output
            elapsed = time.perf_counter() - start
            assert out == expected, out
            if i >= 2:
                samples[name].append(elapsed)
    raw = statistics.median(samples["raw"])
    ours = statistics.median(samples["agentkit"])
    per = max(turns, 1)
    print(
        f"{label:<34} raw {raw / per * 1e3:8.3f} ms/turn   agentkit {ours / per * 1e3:8.3f} ms/turn"
        f"   ratio {ours / raw:5.2f}x"
    )


async def concurrency(runs: int, reps: int) -> None:
    raw_client = _client(1, 3)
    agent = make_agent(_client(1, 3), 0.0)
    times: dict[str, list[float]] = {"raw": [], "agentkit": []}
    for i in range(reps + 1):
        for name in ("raw", "agentkit"):
            start = time.perf_counter()
            if name == "raw":
                outs = await asyncio.gather(*(raw_loop(raw_client, "go", 0.0) for _ in range(runs)))
            else:
                outs = [r.output for r in await asyncio.gather(*(agent.run("go") for _ in range(runs)))]
            elapsed = time.perf_counter() - start
            assert all(o == "FINAL results=3" for o in outs)
            if i:
                times[name].append(elapsed)
    raw = statistics.median(times["raw"])
    ours = statistics.median(times["agentkit"])
    print(
        f"{runs} concurrent runs (3 tool turns)   raw {runs / raw:8.0f} runs/s   "
        f"agentkit {runs / ours:8.0f} runs/s   ratio {ours / raw:5.2f}x"
    )


async def main(reps: int) -> None:
    print("agentkit loop benchmark: ratio = agentkit time / raw SDK loop time (< 1.0: agentkit is faster)")
    await measure("20 turns x 1 call", 1, TURNS, 0.0, reps)
    await measure("5 turns x 8 parallel calls", 8, 5, 0.0, reps)
    await measure("1 turn x 8 calls sleeping 50 ms", 8, 1, 0.05, max(reps // 4, 3))
    await concurrency(500, 3)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=15)
    asyncio.run(main(parser.parse_args().reps))

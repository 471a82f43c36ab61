"""Loop overhead of agentkit against a hand-written loop on the raw ``openai`` SDK.

Both talk to the same fake OpenAI server (``fake_server.py``, a separate process on 127.0.0.1),
so what differs is framework + client cost. Every number is printed next to the raw SDK loop
measured in the same run, and as a ratio (agentkit / raw: below 1.0, agentkit is faster).

    python benchmarks/bench_loop.py            # about a minute
    python benchmarks/bench_loop.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openai

from agentkit import Agent, tool
from agentkit.events import FinalResult

SCHEMA = {
    "name": "lookup",
    "description": "Look up a key.",
    "parameters": {
        "type": "object",
        "properties": {"key": {"type": "string"}},
        "required": ["key"],
        "additionalProperties": False,
    },
    "strict": True,
}
CHAT_TOOL: Any = {"type": "function", "function": SCHEMA}
RESPONSES_TOOL: Any = {"type": "function", **SCHEMA}


def body(key: str) -> str:
    return f"value-of-{key}"


# --- the baseline: what a careful user writes by hand on the SDK ---------------------------------


async def raw_chat(client: openai.AsyncOpenAI, prompt: str, tool_fn: Any, stream: bool = False) -> str:
    messages: list[Any] = [{"role": "user", "content": prompt}]
    while True:
        if stream:
            calls: dict[int, dict[str, Any]] = {}
            text = ""
            chunks = await client.chat.completions.create(
                model="m",
                messages=messages,
                tools=[CHAT_TOOL],
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in chunks:
                for choice in chunk.choices:
                    text += choice.delta.content or ""
                    for tc in choice.delta.tool_calls or ():
                        entry = calls.setdefault(tc.index, {"id": tc.id, "name": "", "arguments": ""})
                        if tc.function and tc.function.name:
                            entry["name"] = tc.function.name
                        if tc.function and tc.function.arguments:
                            entry["arguments"] += tc.function.arguments
            tool_calls = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for _, c in sorted(calls.items())
            ]
            if not tool_calls:
                return text
            messages.append({"role": "assistant", "content": None, "tool_calls": tool_calls})
            pairs = [(tc["id"], tc["function"]["arguments"]) for tc in tool_calls]
        else:
            completion = await client.chat.completions.create(model="m", messages=messages, tools=[CHAT_TOOL])
            message = completion.choices[0].message
            if not message.tool_calls:
                return message.content or ""
            messages.append(message.model_dump(exclude_none=True))
            pairs = [(tc.id, tc.function.arguments) for tc in message.tool_calls]  # type: ignore[union-attr]
        outputs = await asyncio.gather(*(tool_fn(json.loads(args)["key"]) for _, args in pairs))
        for (call_id, _), out in zip(pairs, outputs, strict=True):
            messages.append({"role": "tool", "tool_call_id": call_id, "content": out})


async def raw_responses(client: openai.AsyncOpenAI, prompt: str, tool_fn: Any) -> str:
    items: list[Any] = [{"role": "user", "content": prompt}]
    while True:
        response = await client.responses.create(model="m", input=items, tools=[RESPONSES_TOOL])
        calls = [o for o in response.output if o.type == "function_call"]
        if not calls:
            return response.output_text
        items.extend(o.model_dump(exclude_none=True) for o in response.output)
        outputs = await asyncio.gather(*(tool_fn(json.loads(c.arguments)["key"]) for c in calls))
        for c, out in zip(calls, outputs, strict=True):
            items.append({"type": "function_call_output", "call_id": c.call_id, "output": out})


def raw_sync(client: openai.OpenAI, prompt: str) -> str:
    messages: list[Any] = [{"role": "user", "content": prompt}]
    while True:
        message = (
            client.chat.completions.create(model="m", messages=messages, tools=[CHAT_TOOL]).choices[0].message
        )
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for tc in message.tool_calls:
            key = json.loads(tc.function.arguments)["key"]  # type: ignore[union-attr]
            messages.append({"role": "tool", "tool_call_id": tc.id, "content": body(key)})


# --- agentkit ------------------------------------------------------------------------------------


async def _async_lookup(key: str) -> str:
    return body(key)


def make_agent(
    client: openai.AsyncOpenAI | None, api: str = "chat", sync_tool: bool = False
) -> Agent[Any, Any]:
    if sync_tool:

        @tool
        def lookup(key: str) -> str:
            """Look up a key.

            Args:
                key: The key.
            """
            return body(key)

        chosen = lookup
    else:

        @tool
        async def lookup_async(key: str) -> str:
            """Look up a key.

            Args:
                key: The key.
            """
            return body(key)

        chosen = lookup_async
        chosen.name = "lookup"
        chosen.parameters = SCHEMA["parameters"]  # type: ignore[assignment]
    return Agent("m", tools=[chosen], client=client, api=api, max_turns=100)  # type: ignore[arg-type]


async def agent_stream(agent: Agent[Any, Any], prompt: str) -> str:
    output = None
    async for event in agent.run_stream(prompt):
        if isinstance(event, FinalResult):
            output = str(event.result.output)
    assert output is not None
    return output


# --- scenarios -----------------------------------------------------------------------------------


def _row(label: str, raw: float, ours: float, unit: str = "ms/turn") -> None:
    print(f"{label:<44} raw {raw:9.3f} {unit}   agentkit {ours:9.3f} {unit}   ratio {ours / raw:5.2f}x")


async def overhead(base_url: str, reps: int) -> None:
    turns = 20
    prompt = f"turns={turns} calls=1"
    expected = f"FINAL results={turns}"
    aclient = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
    sclient = openai.OpenAI(api_key="bench", base_url=base_url, max_retries=0)
    chat, responses = make_agent(aclient), make_agent(aclient, "responses")
    # run_sync runs on its own event loop, so its client must not be shared with this loop.
    sync_agent = make_agent(
        openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0), sync_tool=True
    )
    modes: dict[str, tuple[Any, Any]] = {
        "async (chat)": (lambda: raw_chat(aclient, prompt, _async_lookup), lambda: _output(chat.run(prompt))),
        "async stream (chat, SSE)": (
            lambda: raw_chat(aclient, prompt, _async_lookup, stream=True),
            lambda: agent_stream(chat, prompt),
        ),
        "async (responses)": (
            lambda: raw_responses(aclient, prompt, _async_lookup),
            lambda: _output(responses.run(prompt)),
        ),
    }
    for label, (raw_fn, ours_fn) in modes.items():
        samples: dict[str, list[float]] = {"raw": [], "ours": []}
        for i in range(reps + 2):
            for name, fn in (
                (("raw", raw_fn), ("ours", ours_fn)) if i % 2 else (("ours", ours_fn), ("raw", raw_fn))
            ):
                start = time.perf_counter()
                out = await fn()
                elapsed = time.perf_counter() - start
                assert out.strip() == expected, (label, name, out)
                if i >= 2:
                    samples[name].append(elapsed)
        _row(
            f"20 turns x 1 call, {label}",
            *(statistics.median(samples[k]) / turns * 1e3 for k in ("raw", "ours")),
        )
    # The sync twin, from a thread with no running loop.
    raw_times, our_times = [], []
    for _ in range(reps + 2):
        start = time.perf_counter()
        assert raw_sync(sclient, prompt) == expected
        raw_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert (await asyncio.to_thread(sync_agent.run_sync, prompt)).output == expected
        our_times.append(time.perf_counter() - start)
    _row(
        "20 turns x 1 call, sync (run_sync)",
        statistics.median(raw_times[2:]) / turns * 1e3,
        statistics.median(our_times[2:]) / turns * 1e3,
    )


async def _output(awaitable: Any) -> str:
    return str((await awaitable).output)


async def parallel(base_url: str) -> None:
    client = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
    prompt = "turns=1 calls=8"

    async def sleepy_async(key: str) -> str:
        await asyncio.sleep(0.2)
        return body(key)

    @tool
    async def lookup(key: str) -> str:
        """Sleep, then look up.

        Args:
            key: The key.
        """
        return await sleepy_async(key)

    @tool(name="lookup")
    def lookup_sync(key: str) -> str:
        """Sleep, then look up.

        Args:
            key: The key.
        """
        time.sleep(0.2)
        return body(key)

    for label, t in (("async def", lookup), ("def", lookup_sync)):
        agent = Agent("m", tools=[t], client=client)
        walls = []
        for _ in range(4):
            start = time.perf_counter()
            assert (await agent.run(prompt)).output == "FINAL results=8"
            walls.append(time.perf_counter() - start)
        start = time.perf_counter()
        await raw_chat(client, prompt, sleepy_async)
        raw = time.perf_counter() - start
        _row(
            f"8 parallel calls sleeping 200 ms, {label} tool",
            raw * 1e3,
            statistics.median(walls[1:]) * 1e3,
            "ms wall",
        )


def concurrency_child(base_url: str, impl: str, runs: int) -> None:
    """One process per implementation, so peak RSS belongs to it alone."""
    os.environ["OPENAI_BASE_URL"] = base_url
    os.environ["OPENAI_API_KEY"] = "bench"

    async def main() -> None:
        prompt = "turns=3 calls=1 latency=50"
        if impl == "raw":
            client = openai.AsyncOpenAI(max_retries=0)

            async def one() -> str:
                return await raw_chat(client, prompt, _async_lookup)
        else:
            agent = make_agent(None)  # agentkit's default client, built from the environment

            async def one() -> str:
                return str((await agent.run(prompt)).output)

        async def timed() -> float:
            start = time.perf_counter()
            assert await one() == "FINAL results=3"
            return time.perf_counter() - start

        await asyncio.gather(*(timed() for _ in range(20)))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        latencies = sorted(await asyncio.gather(*(timed() for _ in range(runs))))
        wall = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "throughput": runs / wall,
                    "p50": latencies[len(latencies) // 2],
                    "p99": latencies[int(len(latencies) * 0.99) - 1],
                    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "rss_before_mb": rss_before,
                }
            )
        )

        if impl != "raw":
            await agent.aclose()
        else:
            await client.close()

    asyncio.run(main())


def concurrency(base_url: str, runs: int) -> None:
    results = {}
    for impl in ("raw", "agentkit"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", impl, "--base-url", base_url, "--runs", str(runs)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results[impl] = json.loads(out.strip().splitlines()[-1])
    raw, ours = results["raw"], results["agentkit"]
    print(f"{runs} concurrent runs x 4 requests, 50 ms server latency:")
    for name, r in results.items():
        print(
            f"    {name:<9} {r['throughput']:6.0f} runs/s   p50 {r['p50'] * 1e3:5.0f} ms   "
            f"p99 {r['p99'] * 1e3:5.0f} ms   peak RSS {r['rss_mb']:4.0f} MB"
        )
    print(f"    throughput ratio agentkit / raw: {ours['throughput'] / raw['throughput']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", choices=["raw", "agentkit"])
    parser.add_argument("--base-url")
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    if args.child:
        concurrency_child(args.base_url, args.child, args.runs)
        return
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("fake_server.py"))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        base_url = f"http://127.0.0.1:{server.stdout.readline().strip()}/v1"
        print(f"agentkit loop benchmark against {base_url}; ratio = agentkit / raw SDK loop (< 1.0: faster)")
        asyncio.run(overhead(base_url, 3 if args.quick else 12))
        asyncio.run(parallel(base_url))
        concurrency(base_url, 100 if args.quick else args.runs)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()

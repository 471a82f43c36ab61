"""500 concurrent streamed runs through the service (uvicorn) against the same runs in-process.

Each run: one user message, a tool call to ``lookup``, then the final answer, against the fake
OpenAI server (``fake_server.py``, 50 ms per model request, so >= 100 ms per run). Both sides
use the same session store (a fresh SQLite file each) and the same default client.

- ``serve``: ``agentkit.serve`` under uvicorn in its own process (rate limit off). The load
  generator (this process, aiohttp) makes one thread per run, then starts every run at once
  with ``POST /v1/threads/{id}/runs`` (``stream: true``, the message in ``additional_messages``)
  and reads the Assistants SSE stream. Every stream is checked: event ids 1..n with no gap or
  repeat, the expected event sequence, and the streamed text equal to the answer.
- ``in-process``: the same agent with ``agent.run_stream(session=SQLiteSession(...))`` in a
  process of its own, all runs at once.

Reported: runs/s (runs / wall time of the concurrent phase), p50/p99 time to first token and
to completion, peak RSS of the serving process, CPU seconds of the server and of the load
generator (they share the machine's cores), dropped or reordered events.

    python benchmarks/bench_serve.py               # 500 runs, about 30 s
    python benchmarks/bench_serve.py --runs 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agentkit import Agent, tool

PROMPT = "turns=1 calls=1 latency=50"
EXPECTED = "FINAL results=1"


@tool
async def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: The key.
    """
    return f"value-of-{key}"


def make_agent() -> Agent[Any, Any]:
    return Agent("fake-model", name="bench", tools=[lookup])


def peak_rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(ttft: list[float], done: list[float], wall: float) -> dict[str, float]:
    def pct(values: list[float], q: float) -> float:
        return (
            statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]
        )

    return {
        "runs_per_s": len(done) / wall,
        "ttft_p50": pct(ttft, 50),
        "ttft_p99": pct(ttft, 99),
        "done_p50": pct(done, 50),
        "done_p99": pct(done, 99),
    }


# --- the in-process baseline (a child process) ---


async def in_process(runs: int, store: str) -> dict[str, Any]:
    from agentkit.sessions import SQLiteSession

    agent = make_agent()
    ttft: list[float] = []
    done: list[float] = []
    dropped = 0

    async def one(i: int) -> None:
        nonlocal dropped
        start = time.perf_counter()
        first = None
        text = ""
        async for event in agent.run_stream(PROMPT, session=SQLiteSession(f"thread-{i}", store)):
            if type(event).__name__ == "TextDelta":
                first = first or time.perf_counter()
                text += event.text  # type: ignore[union-attr]
            elif type(event).__name__ == "FinalResult":
                done.append(time.perf_counter() - start)
                dropped += event.result.output != EXPECTED or text != EXPECTED  # type: ignore[union-attr]
        ttft.append((first or time.perf_counter()) - start)

    await one(-1)  # warm-up: the client's pool and the store's schema
    ttft.clear(), done.clear()
    cpu0 = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(runs)))
    wall = time.perf_counter() - start
    await agent.aclose()
    return {
        **summary(ttft, done, wall),
        "wall": wall,
        "rss_mb": peak_rss_mb(),
        "cpu": time.process_time() - cpu0,
        "bad": dropped,
    }


# --- the service ---


def serve(port: int, store: str) -> None:
    import uvicorn

    from agentkit.serve import create_app

    app = create_app(make_agent(), store=store, rate_limit=None, playground=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def check_stream(events: list[tuple[int, str, str]]) -> bool:
    """Ids 1..n in order, the Assistants event sequence, and the text equal to the answer."""
    ids = [i for i, _, _ in events if i]
    names = [n for _, n, _ in events]
    text = "".join(
        json.loads(d)["delta"]["content"][0]["text"]["value"]
        for _, n, d in events
        if n == "thread.message.delta"
    )
    completed = [json.loads(d) for _, n, d in events if n == "thread.message.completed"]
    return (
        ids == list(range(1, len(ids) + 1))
        and names[:3] == ["thread.run.created", "thread.run.queued", "thread.run.in_progress"]
        and names[-2:] == ["thread.run.completed", "done"]
        and text == EXPECTED
        and len(completed) == 1
        and completed[0]["content"][0]["text"]["value"] == EXPECTED
    )


async def load(url: str, key: str, runs: int) -> dict[str, Any]:
    import aiohttp

    headers = {"authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(url, headers=headers, connector=connector) as http:
        threads = []
        setup = time.perf_counter()
        for _ in range(runs + 1):
            async with http.post("/v1/threads", json={}) as response:
                threads.append((await response.json())["id"])
        setup = time.perf_counter() - setup
        ttft: list[float] = []
        done: list[float] = []
        bad = 0

        async def one(thread_id: str) -> None:
            nonlocal bad
            body = {
                "assistant_id": "asst_bench",
                "stream": True,
                "additional_messages": [{"role": "user", "content": PROMPT}],
            }
            start = time.perf_counter()
            first = None
            events: list[tuple[int, str, str]] = []
            async with http.post(f"/v1/threads/{thread_id}/runs", json=body) as response:
                fields: dict[str, str] = {}
                async for raw in response.content:
                    line = raw.decode().rstrip("\r\n")
                    if line:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
                        continue
                    if "data" in fields:
                        if fields.get("event") == "thread.message.delta" and first is None:
                            first = time.perf_counter()
                        events.append(
                            (int(fields.get("id", "0") or 0), fields.get("event", ""), fields["data"])
                        )
                    fields = {}
            done.append(time.perf_counter() - start)
            ttft.append((first or time.perf_counter()) - start)
            bad += not check_stream(events)

        await one(threads.pop())  # warm-up
        ttft.clear(), done.clear()
        cpu0 = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(one(t) for t in threads))
        wall = time.perf_counter() - start
        return {
            **summary(ttft, done, wall),
            "wall": wall,
            "cpu": time.process_time() - cpu0,
            "bad": bad,
            "setup": setup,
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_serve_side(runs: int, env: dict[str, str], workdir: str) -> dict[str, Any]:
    from agentkit.serve import create_key, open_store

    store = f"sqlite:///{workdir}/serve.sqlite3"

    async def make_key() -> str:
        opened = open_store(store)
        try:
            return await create_key(opened, "bench")
        finally:
            await opened.aclose()

    key = asyncio.run(make_key())
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--server", str(port), "--store", store], env=env)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        cpu0 = cpu_seconds(server.pid)
        result = asyncio.run(load(f"http://127.0.0.1:{port}", key, runs))
        result["server_cpu"] = cpu_seconds(server.pid) - cpu0
        result["rss_mb"] = peak_rss_mb(server.pid)
        return result
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--dir", help="where the SQLite stores go (default: a temporary directory)")
    parser.add_argument("--server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server:
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import signal

            profiler = cProfile.Profile()
            signal.signal(
                signal.SIGTERM, lambda *_: (profiler.dump_stats(os.environ["BENCH_PROFILE"]), os._exit(0))
            )
            profiler.enable()
        serve(args.server, args.store)
        return
    if args.in_process:
        print(json.dumps(asyncio.run(in_process(args.runs, args.store))))
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    fake = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("fake_server.py"))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert fake.stdout is not None
        env = {
            **os.environ,
            "OPENAI_BASE_URL": f"http://127.0.0.1:{fake.stdout.readline().strip()}/v1",
            "OPENAI_API_KEY": "sk-fake",
        }
        with tempfile.TemporaryDirectory(dir=args.dir) as workdir:
            baseline = json.loads(
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--in-process",
                        "--runs",
                        str(args.runs),
                        "--store",
                        f"{workdir}/inproc.sqlite3",
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            served = run_serve_side(args.runs, env, workdir)
    finally:
        fake.terminate()
        fake.wait()
    print(f"{args.runs} concurrent streamed runs (tool call + answer, 50 ms per model request), SQLite store")
    print(
        f"{'':12} {'runs/s':>7} {'TTFT p50':>9} {'p99':>7} {'done p50':>9} {'p99':>7} {'peak RSS':>9} "
        f"{'CPU s':>6} {'bad':>4}"
    )
    for name, r in (("in-process", baseline), ("served", served)):
        print(
            f"{name:12} {r['runs_per_s']:7.0f} {r['ttft_p50'] * 1e3:7.0f}ms {r['ttft_p99'] * 1e3:5.0f}ms "
            f"{r['done_p50'] * 1e3:7.0f}ms {r['done_p99'] * 1e3:5.0f}ms {r['rss_mb']:7.0f}MB "
            f"{r.get('server_cpu', r['cpu']):6.1f} {r['bad']:4d}"
        )
    print(
        f"load generator CPU: {served['cpu']:.1f} s over {served['wall']:.1f} s "
        f"(thread setup before the runs: {served['setup']:.1f} s)"
    )
    print(
        f"throughput served / in-process: {served['runs_per_s'] / baseline['runs_per_s']:.2f}x "
        f"(goal >= 0.75); dropped or reordered streams: {served['bad']}"
    )


if __name__ == "__main__":
    main()

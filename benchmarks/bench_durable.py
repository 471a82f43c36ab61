"""Durable runs (agentkit.durable, DBOS on Postgres): overhead per checkpointed step, and the
throughput of a worker pool against the in-process library, in one run.

- ``overhead``: the same run (4 tool turns of 2 parallel calls, then the answer: 5 model requests
  and 8 tool calls = 13 steps) against ``benchmarks/fake_server.py`` with no latency, executed
  as a DBOS workflow in this process and as a plain ``Agent.run``; (durable - plain) / 13 is the
  cost of one checkpointed step. Goal: <= 5 ms.
- ``throughput``: 500 runs of 4 model requests each (3 turns of 1 tool call, then the answer) at
  50 ms model latency, enqueued at once and executed by 1, 2 and 4 ``agentkit worker``
  processes, against the same 500 runs with ``asyncio.gather`` in one process.

Each measurement uses a fresh database on ``AGENTKIT_TEST_POSTGRES_DSN``.

    python benchmarks/bench_durable.py            # about 2 minutes
    python benchmarks/bench_durable.py --quick    # 100 runs, workers 1 and 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from agentkit import Agent, tool

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_DSN = os.environ.get("AGENTKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:25329/postgres")
REF = "benchmarks.bench_durable:agent"
STEPS_PER_RUN = 13


@tool
def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: What to look up.
    """
    return f"value-of-{key}"


# The default client of each event loop, pointed at the fake server by OPENAI_BASE_URL.
agent = Agent("gpt-4o-mini", tools=[lookup], max_turns=10)


def fresh_database() -> str:
    name = f"agentkit_bench_durable_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]  # generated name
    return urlunsplit(urlsplit(POSTGRES_DSN)._replace(path=f"/{name}"))


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]


def start_fake_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "fake_server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, f"http://127.0.0.1:{int(server.stdout.readline())}/v1"


def overhead(store: str, repeats: int, plain_agent: Agent[Any, Any]) -> dict[str, float]:
    """Median seconds of one 13-step run, durable (in this process) and plain."""
    from dbos import DBOS

    from agentkit.durable import Worker
    from agentkit.durable._workflow import durable_agent, run_workflow

    worker = Worker(store, agents=(REF,))
    worker.start()
    _, version = durable_agent(REF)
    prompt = "turns=4 calls=2 latency=0"

    async def durable() -> float:
        start = time.perf_counter()
        handle = await DBOS.start_workflow_async(run_workflow, REF, version, prompt)
        out = await handle.get_result()
        assert out["output"] == "FINAL results=8", out
        return time.perf_counter() - start

    async def plain() -> float:
        start = time.perf_counter()
        result = await plain_agent.run(prompt)
        assert result.output == "FINAL results=8"
        return time.perf_counter() - start

    async def measure() -> tuple[list[float], list[float]]:
        await plain(), await durable()  # warm up both paths
        durable_s, plain_s = [], []
        for _ in range(repeats):
            durable_s.append(await durable())
            plain_s.append(await plain())
        return durable_s, plain_s

    durable_s, plain_s = asyncio.run(measure())
    worker.stop()
    return {"durable": statistics.median(durable_s), "plain": statistics.median(plain_s)}


def throughput_workers(store: str, model_url: str, runs: int, count: int) -> float:
    """Runs per second with ``count`` worker processes."""
    from agentkit.durable import enqueue

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "agentkit._cli",
        "worker",
        REF,
        "--store",
        store,
        "--worker-concurrency",
        "200",
    ]
    workers = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
        )
        for _ in range(count)
    ]
    for w in workers:
        assert w.stdout is not None and w.stdout.readline().startswith("worker ")
    try:
        start = time.perf_counter()
        for n in range(runs):
            enqueue(store, REF, f"turns=3 calls=1 latency=50 n={n}")
        with psycopg.connect(store, autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "SELECT count(*) FROM dbos.workflow_status WHERE status = 'SUCCESS'"
                ).fetchone()
                if row and row[0] >= runs:
                    break
                time.sleep(0.05)
        return runs / (time.perf_counter() - start)
    finally:
        for w in workers:
            w.terminate()
            w.wait()
            if w.stdout is not None:
                w.stdout.close()


def throughput_in_process(runs: int, plain_agent: Agent[Any, Any]) -> float:
    async def all_runs() -> float:
        start = time.perf_counter()
        results = await asyncio.gather(
            *(plain_agent.run(f"turns=3 calls=1 latency=50 n={n}") for n in range(runs))
        )
        assert all(r.output == "FINAL results=3" for r in results)
        return runs / (time.perf_counter() - start)

    return asyncio.run(all_runs())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs, counts, repeats = (100, (1, 2), 10) if args.quick else (500, (1, 2, 4), 30)
    server, model_url = start_fake_server()
    os.environ.update(OPENAI_BASE_URL=model_url, OPENAI_API_KEY="bench-key")
    # The agent as workers import it (``benchmarks.bench_durable``), its client on this server.
    from agentkit.durable._workflow import load_agent

    plain_agent = load_agent(REF)
    try:
        store = fresh_database()
        try:
            o = overhead(store, repeats, plain_agent)
        finally:
            drop_database(store)
        per_step = (o["durable"] - o["plain"]) / STEPS_PER_RUN * 1000
        durable_ms, plain_ms = o["durable"] * 1000, o["plain"] * 1000
        print(f"overhead: one 13-step run {durable_ms:.1f} ms durable vs {plain_ms:.1f} ms plain")
        print(f"  -> {per_step:.2f} ms per checkpointed step (goal <= 5 ms)")
        base = throughput_in_process(runs, plain_agent)
        print(f"throughput, {runs} runs x 4 requests at 50 ms: in-process {base:.0f} runs/s")
        for count in counts:
            store = fresh_database()
            try:
                rate = throughput_workers(store, model_url, runs, count)
            finally:
                drop_database(store)
            print(f"  {count} worker(s): {rate:.0f} runs/s ({rate / base:.2f}x in-process)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()

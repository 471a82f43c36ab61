"""Fine-tuning data and evaluation benchmarks, each as a ratio against a floor measured in the same run.

1. Validation of a seeded file (default 100,000 examples, about 1,500 tokens and 3 tool calls each):
   - floor: parse each line and tokenize its text with the same tokenizer (``count_text``);
   - baseline: a straightforward script applying the published checks (OpenAI's cookbook notebook,
     made not to crash on tool calls), loading the file first as the notebook does;
   - agentkit: ``agentkit.finetune.validate`` (every rule, schema checks, token counts).
   Each runs in a fresh process; examples/s and peak RSS are reported. Goal: within 1.5x of the
   floor, and peak memory flat in the file size (compare ``--examples 10000``).
2. Evaluation of 1,000 cases (2 requests each) against ``fake_server.py`` with 50 ms latency per
   request, at ``--concurrency`` runs in flight: wall time vs the floor ``cases * 2 * 50 ms / C``.

Run:  python benchmarks/bench_finetune.py [--examples 100000] [--cases 1000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORDS = [
    *(
        [
            "weather",
            "forecast",
            "city",
            "temperature",
            "humidity",
            "wind",
            "order",
            "refund",
            "invoice",
            "customer",
            "account",
        ]
    ),
    *(
        [
            "shipping",
            "address",
            "delivery",
            "status",
            "product",
            "warehouse",
            "stock",
            "price",
            "currency",
            "payment",
            "card",
        ]
    ),
    *(
        [
            "receipt",
            "ticket",
            "support",
            "agent",
            "request",
            "response",
            "value",
            "lookup",
            "result",
            "summary",
            "report",
        ]
    ),
]

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"Look up {name.split('_')[1]} records.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["query", "limit"],
                "additionalProperties": False,
            },
        },
    }
    for name in ("get_orders", "get_customers", "get_stock")
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def example(rng: random.Random) -> dict[str, Any]:
    """One tool-calling example: ~1,500 tokens, 3 tool calls in 3 turns."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": _text(rng, 120)},
        {"role": "user", "content": _text(rng, 60)},
    ]
    for i in range(3):
        call_id = f"call_{rng.getrandbits(48):x}_{i}"
        tool = TOOLS[i]["function"]["name"]
        args = json.dumps({"query": _text(rng, 5), "limit": rng.randint(1, 50)})
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": tool, "arguments": args}}
                ],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call_id, "content": _text(rng, 330)})
    messages.append({"role": "assistant", "content": _text(rng, 120)})
    return {"messages": messages, "tools": TOOLS, "parallel_tool_calls": False}


def generate(path: Path, n: int, seed: int = 7) -> None:
    """Write ``n`` seeded examples to ``path``."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for _ in range(n):
            f.write(json.dumps(example(rng)) + "\n")


# --- the three validators, each run in its own process ---


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def run_floor(path: Path, model: str) -> int:
    """Parse each line and tokenize every string in it: what any validator must at least do."""
    from agentkit.tokens import count_text

    n = 0
    with path.open("rb") as f:
        for raw in f:
            example = json.loads(raw)
            count_text("\n".join(_strings(example)), model=model)
            n += 1
    return n


def run_baseline(path: Path, model: str) -> int:
    """The cookbook notebook's checks, loading the whole file first, counting with the same tokenizer."""
    from agentkit.tokens import count_text

    with path.open(encoding="utf-8") as f:
        dataset = [json.loads(line) for line in f]
    errors: dict[str, int] = {}
    lengths = []
    for ex in dataset:
        messages = ex.get("messages")
        if not messages:
            errors["missing_messages_list"] = errors.get("missing_messages_list", 0) + 1
            continue
        for m in messages:
            if "role" not in m or ("content" not in m and "tool_calls" not in m):
                errors["message_missing_key"] = errors.get("message_missing_key", 0) + 1
        tokens = 3
        for m in messages:
            tokens += 3 + sum(
                count_text(v if isinstance(v, str) else json.dumps(v), model=model)
                for v in m.values()
                if v is not None
            )
        lengths.append(tokens)
    return len(dataset)


def run_agentkit(path: Path, model: str) -> int:
    """``agentkit.finetune.validate`` with every rule."""
    from agentkit.finetune import validate

    report = validate(path, model=model)
    assert report.ok, report.format(limit=5)
    return report.examples


def worker(kind: str, path: Path, model: str) -> None:
    """Measure one validator in this (fresh) process and print JSON."""
    runner = {"floor": run_floor, "baseline": run_baseline, "agentkit": run_agentkit}[kind]
    started = time.perf_counter()
    n = runner(path, model)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "examples": n, "seconds": seconds, "peak_mb": peak_mb}))


def measure(kind: str, path: Path, model: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(path), "--model", model],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def bench_validate(examples: int, model: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.jsonl"
        started = time.perf_counter()
        generate(path, examples)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {examples} examples ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")
        rows = {kind: measure(kind, path, model) for kind in ("floor", "baseline", "agentkit")}
    floor = rows["floor"]["seconds"]
    print(f"{'':10} {'seconds':>9} {'examples/s':>11} {'peak MB':>8} {'vs floor':>9}")
    for kind, row in rows.items():
        rate = row["examples"] / row["seconds"]
        ratio = row["seconds"] / floor
        print(f"{kind:10} {row['seconds']:9.1f} {rate:11.0f} {row['peak_mb']:8.0f} {ratio:8.2f}x")


# --- evaluation against the fake server ---


async def _evaluate(base_url: str, cases: int, concurrency: int) -> tuple[float, float]:
    from openai import AsyncOpenAI

    from agentkit import Agent, tool
    from agentkit.evals import Case, evaluate

    @tool
    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        return f"value-of-{key}"

    spec = "turns=1 calls=1 latency=50"
    async with AsyncOpenAI(api_key="sk-bench-placeholder", base_url=base_url, max_retries=0) as client:
        agent = Agent("bench-model", tools=[lookup], client=client)
        todo = [
            Case(
                f"case {i}: {spec}",
                [{"name": "lookup", "arguments": {"key": "k0_0"}}],
                "FINAL results=1",
                id=str(i),
            )
            for i in range(cases)
        ]
        # The same runs without the harness, as many in flight: what the loop itself costs.
        gate = asyncio.Semaphore(concurrency)

        async def one(case: Case) -> None:
            async with gate:
                await agent.run(case.input)

        started = time.perf_counter()
        await asyncio.gather(*(one(c) for c in todo))
        bare = time.perf_counter() - started
        started = time.perf_counter()
        report = await evaluate({"bench": agent}, todo, concurrency=concurrency)
        wall = time.perf_counter() - started
    metrics = report.metrics["bench"]
    assert metrics.errors == 0 and metrics.argument_exact_match == 1.0 and metrics.final_answer_score == 1.0
    return wall, bare


def bench_evaluate(cases: int, concurrency: int) -> None:
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("fake_server.py"))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        base_url = f"http://127.0.0.1:{server.stdout.readline().strip()}/v1"
        wall, bare = asyncio.run(_evaluate(base_url, cases, concurrency))
    finally:
        server.terminate()
        server.wait()
    floor = cases * 2 * 0.050 / concurrency
    print(f"evaluate {cases} cases x 2 requests at 50 ms, concurrency {concurrency}:")
    print(f"  evaluate()        {wall:6.2f} s  = {wall / floor:.2f}x the floor ({floor:.2f} s)")
    print(f"  agent.run() alone {bare:6.2f} s  = {bare / floor:.2f}x the floor")
    print(f"  harness overhead  {wall / bare:6.2f}x (evaluate vs the bare runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--only", choices=["validate", "evaluate"])
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), args.model)
        return
    if args.only != "evaluate":
        bench_validate(args.examples, args.model)
    if args.only != "validate":
        bench_evaluate(args.cases, args.concurrency)


if __name__ == "__main__":
    main()

"""Embedding many short texts: ``Embedder`` against the floor, and against LangChain.

All three talk to the same fake endpoint (``fake_server.py``, a separate process on 127.0.0.1)
that answers after a fixed latency (20 ms by default):

- ``floor``: a bare ``httpx2`` client sending the minimum number of requests (2,048 inputs each)
  at the same concurrency, decoding the same base64 responses with NumPy. Nothing to pack, count
  or cache: the least any client can do.
- ``agentkit``: ``Embedder(dimensions=256).embed(texts)`` on a fresh embedder (cold cache), which
  also checks every input, bounds the request size in tokens and hashes every text for its cache.
- ``langchain``: ``OpenAIEmbeddings(check_embedding_ctx_length=False).aembed_documents`` (its
  token check would download a tokenizer), when ``langchain-openai`` is installed
  (``pip install 'agentkit-openai[bench]'``); skipped otherwise.

Each is run ``--repeats`` times, alternating, and the median wall time is reported with its ratio
to the floor's. Goal: agentkit within 1.25x of the floor.

    python benchmarks/bench_embeddings.py              # 100,000 texts, about a minute
    python benchmarks/bench_embeddings.py --quick      # 10,000 texts
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import openai

from agentkit.embeddings import Embedder

MODEL = "text-embedding-3-small"
DIMENSIONS = 256
CONCURRENCY = 4
BATCH = 2048


def texts(n: int) -> list[str]:
    """Short, distinct texts like chat messages or titles (6-12 words)."""
    words = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
        "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi",
    ]  # fmt: skip
    return [
        " ".join(words[(i * 7 + j * 3) % len(words)] for j in range(6 + i % 7)) + f" {i}" for i in range(n)
    ]


async def floor(url: str, inputs: list[str]) -> np.ndarray[Any, Any]:
    """The least a client can do: fixed batches, bounded concurrency, base64 decoding."""
    semaphore = asyncio.Semaphore(CONCURRENCY)
    headers = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
    limits = httpx2.Limits(max_connections=CONCURRENCY * 2)
    async with httpx2.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:

        async def one(batch: list[str]) -> list[np.ndarray[Any, Any]]:
            body = {"model": MODEL, "input": batch, "dimensions": DIMENSIONS, "encoding_format": "base64"}
            async with semaphore:
                response = await client.post("/embeddings", content=json.dumps(body))
            data = response.json()["data"]
            return [np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in data]

        batches = [inputs[i : i + BATCH] for i in range(0, len(inputs), BATCH)]
        results = await asyncio.gather(*(one(b) for b in batches))
    return np.stack([v for batch in results for v in batch])


async def agentkit(url: str, inputs: list[str]) -> np.ndarray[Any, Any]:
    async with openai.AsyncOpenAI(api_key="sk-bench", base_url=url, max_retries=0) as client:
        embedder = Embedder(MODEL, DIMENSIONS, client=client, max_concurrency=CONCURRENCY)
        return await embedder.embed(inputs)


def langchain_runner() -> Callable[[str, list[str]], Awaitable[Any]] | None:
    try:
        from langchain_openai import OpenAIEmbeddings
    except ImportError:
        return None

    async def run(url: str, inputs: list[str]) -> Any:
        embeddings = OpenAIEmbeddings(
            model=MODEL,
            dimensions=DIMENSIONS,
            base_url=url,
            api_key="sk-bench",  # type: ignore[arg-type]
            check_embedding_ctx_length=False,
            chunk_size=BATCH,
            max_retries=0,
        )
        return np.asarray(await embeddings.aembed_documents(inputs), dtype=np.float32)

    return run


async def measure(url: str, n: int, repeats: int) -> dict[str, list[float]]:
    inputs = texts(n)
    runners: dict[str, Callable[[str, list[str]], Awaitable[Any]]] = {"floor": floor, "agentkit": agentkit}
    if (lc := langchain_runner()) is not None:
        runners["langchain"] = lc
    else:
        print("langchain: skipped (pip install 'agentkit-openai[bench]' to compare)")
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            vectors = await run(url, inputs)
            times[name].append(time.perf_counter() - start)
            assert vectors.shape == (n, DIMENSIONS), (name, vectors.shape)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10,000 texts, 3 repeats")
    args = parser.parse_args()
    if args.quick:
        args.texts, args.repeats = 10_000, 3
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("fake_server.py")),
            "--embeddings-latency-ms",
            str(args.latency_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}/v1"
        times = asyncio.run(measure(url, args.texts, args.repeats))
    finally:
        server.terminate()
        server.wait()
    requests = -(-args.texts // BATCH)
    print(
        f"{args.texts:,} texts, dimensions={DIMENSIONS}, {requests} requests of <= {BATCH} inputs, "
        f"concurrency {CONCURRENCY}, {args.latency_ms:g} ms latency, median of {args.repeats}"
    )
    base = statistics.median(times["floor"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<10} {median * 1000:8.0f} ms   {median / base:5.2f}x floor")
    ratio = statistics.median(times["agentkit"]) / base
    print(f"goal: agentkit <= 1.25x floor: {'met' if ratio <= 1.25 else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()

"""Vector search: build time, query latency and recall@10 per store, against NumPy and FAISS.

The data is a seeded mixture of 1,000 clusters in 1,536 dimensions (the size of
text-embedding-3-small): unit centres, each point its centre plus Gaussian noise, scaled to unit
length. Queries are fresh points from the same mixture. The truth is NumPy's exact top 10.

- ``numpy``: exact brute force (one matrix-vector product and ``argpartition``), the floor for
  exact search.
- ``sqlite``: ``SQLiteVectorStore`` (the default, vectors cached in memory: exact).
- ``sqlite-vec``: ``SQLiteVectorStore(cache_vectors=False)``: a scan inside SQLite with
  sqlite-vec's ``vec_distance_l2`` (exact).
- ``pgvector-hnsw``: ``PgVectorStore`` with its HNSW index (approximate; ``ef_search`` printed),
  when a Postgres with pgvector answers at ``AGENTKIT_TEST_POSTGRES_DSN`` (``bash .ci/services.sh``).
- ``faiss-flat`` / ``faiss-hnsw``: FAISS ``IndexFlatIP`` and ``IndexHNSWFlat`` (M=16,
  efConstruction=64, the same as pgvector's defaults), when ``faiss-cpu`` is installed
  (``pip install 'agentkit-openai[bench]'``).

Build time is the time to load all vectors (for stores: through ``add``, in batches of 1,000;
the in-memory copy of ``sqlite`` is loaded by the first query and reported apart; pgvector's
HNSW index is built once after loading, ``index_after=n``). Latency is one
query at a time, including the store's round trip and the rows' text and metadata.

Goals: ``sqlite`` p50 within 2x of ``numpy``; ``pgvector-hnsw`` recall@10 >= 0.95 with a p50
below ``numpy``'s.

    python benchmarks/bench_vectors.py                 # 100,000 vectors, several minutes
    python benchmarks/bench_vectors.py --n 50000       # if the HNSW build is too slow
    python benchmarks/bench_vectors.py --quick         # 10,000 vectors
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentkit.embeddings import PgVectorStore, SQLiteVectorStore, VectorStore

DIMENSIONS = 1536
CLUSTERS = 1000
K = 10
POSTGRES_DSN = os.environ.get("AGENTKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:25329/postgres")


def mixture(n: int, queries: int, seed: int = 0) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``n`` points and ``queries`` query points, unit float32 rows."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLUSTERS, DIMENSIONS), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def draw(count: int) -> np.ndarray[Any, Any]:
        out = np.empty((count, DIMENSIONS), dtype=np.float32)
        for start in range(0, count, 10_000):
            stop = min(count, start + 10_000)
            labels = rng.integers(0, CLUSTERS, stop - start)
            noise = rng.standard_normal((stop - start, DIMENSIONS), dtype=np.float32) * (
                0.9 / DIMENSIONS**0.5
            )
            block = centres[labels] + noise
            out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out

    return draw(n), draw(queries)


def exact_top(data: np.ndarray[Any, Any], query: np.ndarray[Any, Any], k: int = K) -> np.ndarray[Any, Any]:
    scores = data @ query
    top = np.argpartition(-scores, k - 1)[:k]
    result: np.ndarray[Any, Any] = top[np.argsort(-scores[top])]
    return result


@dataclass
class Row:
    name: str
    build_s: float
    p50_ms: float
    p99_ms: float
    recall: float
    note: str = ""


async def time_queries(
    search: Callable[[np.ndarray[Any, Any]], Awaitable[list[int]]],
    queries: np.ndarray[Any, Any],
    truth: list[set[int]],
) -> tuple[float, float, float]:
    latencies, hits = [], 0
    for query, expected in zip(queries, truth, strict=True):
        start = time.perf_counter()
        found = await search(query)
        latencies.append((time.perf_counter() - start) * 1000)
        hits += len(expected & set(found[:K]))
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return statistics.median(latencies), p99, hits / (K * len(queries))


async def fill(store: VectorStore, data: np.ndarray[Any, Any]) -> float:
    start = time.perf_counter()
    for offset in range(0, len(data), 1000):
        block = data[offset : offset + 1000]
        ids = [str(offset + i) for i in range(len(block))]
        await store.add(
            ids, [f"passage {i}" for i in ids], block, [{"n": offset + i} for i in range(len(block))]
        )
    return time.perf_counter() - start


def store_search(store: VectorStore) -> Callable[[np.ndarray[Any, Any]], Awaitable[list[int]]]:
    async def search(query: np.ndarray[Any, Any]) -> list[int]:
        return [int(h.id) for h in await store.search(query, k=K)]

    return search


async def run(
    n: int, queries_n: int, slow_queries: int, ef_searches: list[int], stores: set[str]
) -> list[Row]:
    print(f"generating {n:,} x {DIMENSIONS} vectors in {CLUSTERS} clusters ...", flush=True)
    data, queries = mixture(n, queries_n)
    truth = [set(exact_top(data, q).tolist()) for q in queries]
    rows: list[Row] = []

    async def numpy_search(query: np.ndarray[Any, Any]) -> list[int]:
        return exact_top(data, query).tolist()  # type: ignore[no-any-return]

    rows.append(Row("numpy", 0.0, *await time_queries(numpy_search, queries, truth)))
    print(f"  numpy done: p50 {rows[-1].p50_ms:.1f} ms", flush=True)

    if "sqlite" in stores:
        rows += await run_sqlite(data, queries, truth, slow_queries)
    if "pgvector" in stores:
        rows += await run_pgvector(data, queries, truth, ef_searches)
    if "faiss" in stores:
        rows += await run_faiss(data, queries, truth, ef_searches)
    return rows


async def run_sqlite(
    data: np.ndarray[Any, Any], queries: np.ndarray[Any, Any], truth: list[set[int]], slow_queries: int
) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SQLiteVectorStore(os.path.join(tmp, "v.sqlite3"), model="bench")
        build = await fill(sqlite, data)
        await sqlite.aclose()
        # Reopened, so the first query loads the in-memory copy from the file.
        sqlite = SQLiteVectorStore(os.path.join(tmp, "v.sqlite3"), model="bench")
        start = time.perf_counter()
        await sqlite.search(queries[0], k=K)
        load = time.perf_counter() - start
        rows.append(Row("sqlite", build, *await time_queries(store_search(sqlite), queries, truth)))
        rows[-1].note = f"in-memory copy loaded by the first query in {load:.1f} s"
        print(f"  sqlite done: build {build:.1f} s, p50 {rows[-1].p50_ms:.1f} ms", flush=True)
        sqlite.cache_vectors = False
        few = slice(0, slow_queries)
        rows.append(
            Row("sqlite-vec", build, *await time_queries(store_search(sqlite), queries[few], truth[few]))
        )
        rows[-1].note = f"same file, cache_vectors=False; {slow_queries} queries"
        await sqlite.aclose()
    return rows


async def run_pgvector(
    data: np.ndarray[Any, Any], queries: np.ndarray[Any, Any], truth: list[set[int]], ef_searches: list[int]
) -> list[Row]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    # index_after=len(data): load, then build the index once (the documented bulk-load path).
    store = PgVectorStore(POSTGRES_DSN, "bench", schema=schema, model="bench", index_after=len(data))
    try:
        await store.count()
    except Exception as exc:
        print(f"pgvector: skipped ({exc})")
        await store.aclose()
        return []
    rows = []
    try:
        print(f"  pgvector: inserting {len(data):,} rows, then building the HNSW index ...", flush=True)
        build = await fill(store, data)
        for ef in ef_searches:
            store.ef_search = ef
            rows.append(Row("pgvector-hnsw", build, *await time_queries(store_search(store), queries, truth)))
            rows[-1].note = f"ef_search={ef}, m=16, ef_construction=64, index built after loading"
            print(f"  pgvector ef_search={ef}: recall {rows[-1].recall:.3f}", flush=True)
    finally:
        await store.aclose()
        import psycopg

        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return rows


async def run_faiss(
    data: np.ndarray[Any, Any], queries: np.ndarray[Any, Any], truth: list[set[int]], ef_searches: list[int]
) -> list[Row]:
    try:
        import faiss
    except ImportError:
        print("faiss: skipped (pip install 'agentkit-openai[bench]' to compare)")
        return []
    rows = []
    for name in ("faiss-flat", "faiss-hnsw"):
        start = time.perf_counter()
        index: Any
        if name == "faiss-flat":
            index = faiss.IndexFlatIP(DIMENSIONS)
        else:
            index = faiss.IndexHNSWFlat(DIMENSIONS, 16, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 64
        index.add(data)
        build = time.perf_counter() - start
        for ef in ef_searches if name == "faiss-hnsw" else [0]:
            if ef:
                index.hnsw.efSearch = ef

            async def search(query: np.ndarray[Any, Any], index: Any = index) -> list[int]:
                _, found = index.search(query[None, :], K)
                return [int(i) for i in found[0]]

            rows.append(Row(name, build, *await time_queries(search, queries, truth)))
            rows[-1].note = f"efSearch={ef}" if ef else ""
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--slow-queries", type=int, default=30, help="queries for the sqlite-vec scan")
    parser.add_argument("--ef-search", default="40,100", help="HNSW ef_search values to report")
    parser.add_argument("--stores", default="sqlite,pgvector,faiss", help="which to measure besides numpy")
    parser.add_argument("--quick", action="store_true", help="10,000 vectors, 50 queries")
    args = parser.parse_args()
    if args.quick:
        args.n, args.queries, args.slow_queries = 10_000, 50, 20
    ef_searches = [int(v) for v in args.ef_search.split(",")]
    stores = set(args.stores.split(","))
    rows = asyncio.run(run(args.n, args.queries, args.slow_queries, ef_searches, stores))
    base = rows[0].p50_ms
    print(f"\n{args.n:,} x {DIMENSIONS} vectors, {CLUSTERS} clusters, k={K}, {args.queries} queries")
    print(f"  {'store':<14} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50/numpy':>9} {'recall@10':>9}")
    for r in rows:
        print(
            f"  {r.name:<14} {r.build_s:8.1f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.p50_ms / base:9.2f} "
            f"{r.recall:9.3f}  {r.note}"
        )
    for sqlite in (r for r in rows if r.name == "sqlite"):
        print(f"goal: sqlite p50 <= 2x numpy: {'met' if sqlite.p50_ms <= 2 * base else 'NOT met'}")
    hnsw = [r for r in rows if r.name == "pgvector-hnsw" and r.recall >= 0.95 and r.p50_ms < base]
    if any(r.name == "pgvector-hnsw" for r in rows):
        verdict = f"met ({hnsw[0].note})" if hnsw else "NOT met"
        print(f"goal: pgvector-hnsw recall >= 0.95 below numpy's p50: {verdict}")


if __name__ == "__main__":
    main()

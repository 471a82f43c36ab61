"""Vector stores (SQLite with sqlite-vec, Postgres with pgvector) through the VectorStore protocol."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from embeddings_fixtures import drop_schema, require_pgvector

from agentkit.embeddings import Embedder, Hit, PgVectorStore, SQLiteVectorStore, VectorStore, open_store
from agentkit.exceptions import (
    ConfigurationError,
    DimensionMismatchError,
    EmbeddingModelMismatchError,
    StoreClosedError,
    VectorStoreError,
)
from agentkit.testing import ScriptedModel

KINDS = ["sqlite", "sqlite-scan", "postgres", "postgres-exact"]
DOCS = {
    "paris": ("Paris is the capital of France.", {"source": "europe.md", "lang": "en"}),
    "berlin": ("Berlin is the capital of Germany.", {"source": "europe.md", "lang": "en"}),
    "tokyo": ("Tokyo is the capital of Japan.", {"source": "asia.md", "lang": "en"}),
    "kyoto": ("Kyoto was the capital of Japan for a thousand years.", {"source": "asia.md", "lang": "ja"}),
}

Factory = Callable[..., VectorStore]


@pytest.fixture(params=KINDS)
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Factory]:
    """Opens stores of one kind, all on one fresh file or schema."""
    kind: str = request.param
    opened: list[VectorStore] = []
    schema = f"t_{uuid.uuid4().hex[:10]}"
    dsn = require_pgvector() if kind.startswith("postgres") else ""

    def make(**options: Any) -> VectorStore:
        if kind.startswith("sqlite"):
            store: VectorStore = SQLiteVectorStore(
                tmp_path / "vectors.sqlite3", cache_vectors=kind == "sqlite", **options
            )
        else:
            store = PgVectorStore(
                dsn, schema=schema, index="exact" if kind.endswith("exact") else "hnsw", **options
            )
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.aclose()
    if kind.startswith("postgres"):
        drop_schema(schema)


def embedder(dimensions: int = 32, model: str = "text-embedding-3-small") -> Embedder:
    return Embedder(model, dimensions, client=ScriptedModel([]).client())


async def fill(store: VectorStore) -> None:
    ids = list(DOCS)
    await store.add(ids, [DOCS[i][0] for i in ids], metadata=[DOCS[i][1] for i in ids])


async def test_add_search_filter_count_get_delete(make_store: Factory) -> None:
    store = make_store(embedder=embedder())
    assert await store.count() == 0 and await store.search("anything") == []
    await fill(store)
    assert (store.model, store.dimensions) == ("text-embedding-3-small", 32)
    hits = await store.search("capital of Japan", k=2)
    assert [h.id for h in hits][:2] == ["tokyo", "kyoto"] or {h.id for h in hits} == {"tokyo", "kyoto"}
    assert isinstance(hits[0], Hit) and hits[0].metadata["source"] == "asia.md"
    assert hits[0].score >= hits[1].score and -1.0 <= hits[1].score <= 1.0 + 1e-6
    assert hits[0].text == DOCS[hits[0].id][0]
    europe = await store.search("capital of Japan", k=5, filter={"source": "europe.md"})
    assert {h.id for h in europe} == {"paris", "berlin"}
    assert [h.id for h in await store.search("Japan", filter={"source": "asia.md", "lang": "ja"})] == [
        "kyoto"
    ]
    either = await store.search("capital", k=10, filter={"lang": ["ja", "xx"], "source": ["asia.md"]})
    assert [h.id for h in either] == ["kyoto"]
    assert await store.count() == 4 and await store.count({"source": "asia.md"}) == 2
    got = await store.get(["paris", "nowhere"])
    assert list(got) == ["paris"] and got["paris"].metadata == DOCS["paris"][1]
    assert await store.delete(["paris", "nowhere"]) == 1
    assert await store.delete(filter={"source": "asia.md"}) == 2
    assert [h.id for h in await store.search("capital of France")] == ["berlin"]


async def test_exact_search_matches_numpy(make_store: Factory) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((300, 24)).astype(np.float32)
    store = make_store(model="custom-model")
    ids = [f"v{i}" for i in range(300)]
    await store.add(ids, [f"text {i}" for i in range(300)], vectors)
    query = rng.standard_normal(24).astype(np.float32)
    units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = units @ (query / np.linalg.norm(query))
    expected = [f"v{i}" for i in np.argsort(-scores)[:10]]
    hits = await store.search(query, k=10)
    found = [h.id for h in hits]
    if isinstance(store, PgVectorStore) and store.index == "hnsw":
        assert len(set(found) & set(expected)) >= 9  # approximate
    else:
        assert found == expected
        assert np.allclose([h.score for h in hits], np.sort(scores)[::-1][:10], atol=1e-5)


async def test_upsert_replaces_and_add_refuses_an_existing_id(make_store: Factory) -> None:
    store = make_store(embedder=embedder())
    await fill(store)
    with pytest.raises(VectorStoreError, match="upsert"):
        await store.add(["new", "paris"], ["new text", "Paris again"])
    assert await store.count() == 4 and "new" not in await store.get(["new"]), "all or nothing"
    await store.upsert(
        ["paris", "lima"], ["Paris has the Louvre museum.", "Lima is in Peru."], metadata=[{}, {}]
    )
    assert (await store.get(["paris"]))["paris"].text == "Paris has the Louvre museum."
    assert (await store.search("Louvre museum", k=1))[0].id == "paris"
    assert await store.count() == 5


async def test_bad_input_is_a_clear_error(make_store: Factory) -> None:
    store = make_store(model="m1")
    good = np.ones((1, 8), dtype=np.float32)
    await store.add(["a"], ["a"], good)
    with pytest.raises(DimensionMismatchError, match="8-dimensional") as info:
        await store.add(["b"], ["b"], np.ones((1, 9), dtype=np.float32))
    assert (info.value.expected, info.value.got) == (8, 9)
    with pytest.raises(DimensionMismatchError):
        await store.search(np.ones(5, dtype=np.float32))
    with pytest.raises(VectorStoreError, match="zero"):
        await store.add(["z"], ["z"], np.zeros((1, 8)))
    with pytest.raises(VectorStoreError, match="2 ids but 1 texts"):
        await store.add(["x", "y"], ["x"], good)
    with pytest.raises(VectorStoreError, match="expected 2 vectors"):
        await store.add(["x", "y"], ["x", "y"], good)
    with pytest.raises(VectorStoreError, match="repeat"):
        await store.add(["x", "x"], ["x", "x"], np.ones((2, 8)))
    with pytest.raises(VectorStoreError, match="no embedder"):
        await store.search("a text query")
    with pytest.raises(VectorStoreError, match="no embedder"):
        await store.add(["c"], ["c"])
    with pytest.raises(VectorStoreError, match="k must be"):
        await store.search(good[0], k=0)
    with pytest.raises(VectorStoreError, match="filter keys"):
        await store.search(good[0], filter={"bad key'": 1})
    with pytest.raises(VectorStoreError, match="JSON"):
        await store.add(["c"], ["c"], good, metadata=[{"when": object()}])
    with pytest.raises(VectorStoreError, match="either ids or filter"):
        await store.delete()
    assert await store.count() == 1


async def test_a_store_built_with_one_model_refuses_another(make_store: Factory) -> None:
    store = make_store(embedder=embedder(32))
    await fill(store)
    await store.aclose()
    with pytest.raises(EmbeddingModelMismatchError, match="text-embedding-3-small"):
        other = make_store(embedder=embedder(32, "text-embedding-3-large"))
        await other.count()
    with pytest.raises(EmbeddingModelMismatchError, match="32"):
        smaller = make_store(embedder=embedder(16))
        await smaller.count()
    reopened = make_store()  # no embedder: vectors only, checked against the stored size
    assert await reopened.count() == 4 and reopened.model == "text-embedding-3-small"
    with pytest.raises(DimensionMismatchError):
        await reopened.add(["x"], ["x"], np.ones((1, 16)))
    with pytest.raises(EmbeddingModelMismatchError):
        await make_store(model="another-model").count()


async def test_a_closed_store_says_so(make_store: Factory) -> None:
    store = make_store(model="m")
    await store.add(["a"], ["a"], np.ones((1, 4)))
    await store.aclose()
    await store.aclose()  # twice is harmless
    for call in (
        store.count(),
        store.search(np.ones(4)),
        store.add(["b"], ["b"], np.ones((1, 4))),
        store.get(["a"]),
        store.delete(["a"]),
    ):
        with pytest.raises(StoreClosedError):
            await call


async def test_writes_from_another_connection_are_seen(make_store: Factory) -> None:
    first = make_store(model="m")
    second = make_store(model="m")
    await first.add(["a"], ["a"], np.array([[1.0, 0.0, 0.0]]))
    assert [h.id for h in await second.search(np.array([1.0, 0.0, 0.0]))] == ["a"]
    await first.add(["b"], ["b"], np.array([[0.0, 1.0, 0.0]]))
    assert [h.id for h in await second.search(np.array([0.0, 1.0, 0.1]), k=1)] == ["b"]
    await second.delete(["b"])
    assert [h.id for h in await first.search(np.array([0.0, 1.0, 0.0]))] == ["a"]


async def test_sqlite_refuses_the_sessions_file(tmp_path: Path) -> None:
    from agentkit.sessions import SQLiteSession

    path = tmp_path / "agentkit_sessions.sqlite3"
    session = SQLiteSession("s", path=path)
    await session.append([{"role": "user", "content": "hi"}])
    with pytest.raises(ConfigurationError, match="file of their own"):
        SQLiteVectorStore(path, model="m")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM agentkit_items").fetchone()[0] == 1
    conn.close()


def test_a_file_that_is_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database, just some text that is long enough to have a header " * 20)
    with pytest.raises(VectorStoreError, match="cannot open"):
        SQLiteVectorStore(text, model="m")
    assert text.read_text().startswith("not a database"), "nothing was written to it"
    with pytest.raises(VectorStoreError, match="cannot open"):
        SQLiteVectorStore(tmp_path / "missing-dir" / "v.sqlite3", model="m")


def test_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///rel.sqlite3")
    assert isinstance(store, SQLiteVectorStore) and store.path == "rel.sqlite3"
    assert open_store(f"sqlite:///{tmp_path}/abs.sqlite3").path == f"{tmp_path}/abs.sqlite3"  # type: ignore[attr-defined]
    assert open_store("plain.sqlite3").path == "plain.sqlite3"  # type: ignore[attr-defined]
    pg = open_store("postgresql://u@127.0.0.1:5/db?name=docs&schema=kb&connect_timeout=3")
    assert isinstance(pg, PgVectorStore)
    assert (pg.name, pg.schema, pg.dsn) == ("docs", "kb", "postgresql://u@127.0.0.1:5/db?connect_timeout=3")
    with pytest.raises(ConfigurationError, match="scheme"):
        open_store("redis://127.0.0.1/0")
    with pytest.raises(ConfigurationError, match="sqlite:///"):
        open_store("sqlite://host/x")
    with pytest.raises(ConfigurationError, match="identifier"):
        open_store("postgresql://u@127.0.0.1/db?name=bad-name")


async def test_pgvector_is_in_the_same_database_as_sessions() -> None:
    dsn = require_pgvector()
    from agentkit.sessions import PostgresSession

    schema = f"t_{uuid.uuid4().hex[:10]}"
    try:
        async with PostgresSession("thread", dsn, schema=schema) as session:
            await session.append([{"role": "user", "content": "hi"}])
        async with PgVectorStore(dsn, schema=schema, model="m") as store:
            await store.add(["a"], ["a"], np.ones((1, 3)))
            assert await store.count() == 1
        async with PostgresSession("thread", dsn, schema=schema) as session:
            assert len(await session.load()) == 1
    finally:
        drop_schema(schema)


async def test_the_hnsw_index_is_built_after_index_after_rows_or_on_request() -> None:
    dsn = require_pgvector()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:10]}"

    def has_index(name: str) -> bool:
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."vectors_{name}_hnsw"',)).fetchone()
        return row is not None and row[0] is not None

    vectors = np.random.default_rng(1).standard_normal((6, 8))
    try:
        async with PgVectorStore(dsn, "auto", schema=schema, model="m", index_after=4) as store:
            await store.add(["a", "b", "c"], ["a", "b", "c"], vectors[:3])
            assert not has_index("auto")
            assert [h.id for h in await store.search(vectors[1], k=1)] == ["b"]  # exact scan
            await store.add(["d", "e"], ["d", "e"], vectors[3:5])
            assert has_index("auto")
            assert [h.id for h in await store.search(vectors[4], k=1)] == ["e"]
        async with PgVectorStore(dsn, "bulk", schema=schema, model="m", index_after=10**9) as store:
            await store.add(["a", "b"], ["a", "b"], vectors[:2])
            assert not has_index("bulk")
            await store.build_index()
            assert has_index("bulk")
        async with PgVectorStore(
            dsn, "scan", schema=schema, model="m", index="exact", index_after=0
        ) as store:
            await store.add(["a"], ["a"], vectors[:1])
            await store.build_index()
            assert not has_index("scan")
        # Above pgvector's 2,000 dimensions for vector indexes, the index is on a halfvec cast.
        wide = np.random.default_rng(2).standard_normal((3, 3072))
        async with PgVectorStore(dsn, "wide", schema=schema, model="m", index_after=0) as store:
            await store.add(["a", "b", "c"], ["a", "b", "c"], wide)
            assert has_index("wide")
            assert [h.id for h in await store.search(wide[2], k=1)] == ["c"]
    finally:
        drop_schema(schema)


async def test_the_in_memory_copy_follows_every_write(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    cached = SQLiteVectorStore(tmp_path / "v.sqlite3", model="m")
    scan = SQLiteVectorStore(tmp_path / "v.sqlite3", model="m", cache_vectors=False)
    try:
        live: set[str] = set()
        for step in range(40):
            action = rng.integers(0, 3)
            if action < 2 or not live:
                ids = [f"r{int(i)}" for i in rng.choice(60, size=int(rng.integers(1, 6)), replace=False)]
                vectors = rng.standard_normal((len(ids), 6))
                await cached.upsert(ids, ids, vectors, [{"even": int(i[1:]) % 2 == 0} for i in ids])
                live |= set(ids)
            else:
                gone = list(rng.choice(sorted(live), size=min(3, len(live)), replace=False))
                assert await cached.delete(gone) == len(gone)
                live -= set(gone)
            query = rng.standard_normal(6)
            for flt in (None, {"even": True}):
                mine = await cached.search(query, k=5, filter=flt)
                truth = await scan.search(query, k=5, filter=flt)
                assert [h.id for h in mine] == [h.id for h in truth], step
                assert np.allclose([h.score for h in mine], [h.score for h in truth], atol=1e-5)
        assert await cached.count() == len(live)
    finally:
        await cached.aclose()
        await scan.aclose()

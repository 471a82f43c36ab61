"""``PgVectorStore``: vectors in Postgres with pgvector and an HNSW index (psycopg 3).

Each store is one table, ``<schema>.vectors_<name>`` (id, text, metadata ``jsonb``, embedding
``vector(d)``), registered with its model and dimensions in ``<schema>.vector_stores``. The
schema is ``agentkit`` by default, the same as ``PostgresSession``: one database serves threads
and vectors. Vectors are stored at unit length, so the inner product is the cosine similarity
and the HNSW index uses ``vector_ip_ops``.

The index is built once the table holds ``index_after`` rows (10,000 by default; below that an
exact scan is fast), or when ``build_index()`` is called: building it over loaded rows is many
times faster than growing it row by row (measured here: 10,000 rows of 1,536 dimensions took
195 s inserted into an indexed table, 48 s to index after loading; pgvector README, "Index Build
Time", read 2026-11). After that, writes update it. pgvector indexes ``vector`` columns of up to 2,000
dimensions; above that the index is built on a ``halfvec`` cast (up to 4,000; pgvector README,
"HNSW", read 2026-11). Filtered searches turn on pgvector's iterative index scan
(``hnsw.iterative_scan = relaxed_order``, pgvector >= 0.8) so a selective filter still finds
``k`` rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..exceptions import ConfigurationError, StoreClosedError, VectorStoreError
from ._pgsql import IDENTIFIER, REGISTRY, distance_sql, import_drivers, index_ddl, metadata_where
from ._store import (
    Document,
    Filter,
    Hit,
    check_filter,
    check_identity,
    check_k,
    prepare_batch,
    query_vector,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._embedder import Embedder

__all__ = ["PgVectorStore"]


class PgVectorStore:
    """A vector store in Postgres with pgvector, shared by processes and machines.

    The connection opens on first use; close it with ``await store.aclose()`` or
    ``async with PgVectorStore(...) as store:``.

    Args:
        dsn: A libpq connection string, e.g. ``"postgresql://app@db:5432/app"``.
        name: The store's name (one table per store): letters, digits and ``_``.
        schema: The Postgres schema; ``agentkit`` like ``PostgresSession``.
        embedder: Embeds texts on writes without ``vectors`` and text queries.
        model: The embedding model name to record when there is no embedder.
        dimensions: The vector length, when known before the first write.
        index: ``"hnsw"`` (approximate, fast) or ``"exact"`` (no index: a scan).
        index_after: Rows at which the HNSW index is built (0: at the first write).
        maintenance_work_mem: Memory for building the index (Postgres setting; the graph
            should fit, about 8 KB per 1,536-dimensional row).
        m: HNSW graph degree (pgvector's default 16).
        ef_construction: HNSW build candidate list (pgvector's default 64).
        ef_search: HNSW query candidate list; higher is slower and more exact (pgvector's
            default is 40; 100 reaches recall@10 >= 0.95 in ``benchmarks/bench_vectors.py``).

    Raises:
        ConfigurationError: The extra is missing or a name is not a plain identifier.
    """

    def __init__(
        self,
        dsn: str,
        name: str = "default",
        *,
        schema: str = "agentkit",
        embedder: Embedder | None = None,
        model: str | None = None,
        dimensions: int | None = None,
        index: Literal["hnsw", "exact"] = "hnsw",
        index_after: int = 10_000,
        maintenance_work_mem: str = "1GB",
        m: int = 16,
        ef_construction: int = 64,
        ef_search: int = 100,
    ) -> None:
        self._psycopg, self._pgvector = import_drivers()
        for what, value in (("name", name), ("schema", schema)):
            if not IDENTIFIER.fullmatch(value):
                raise ConfigurationError(
                    f"{what} must be a plain SQL identifier (letters, digits, _), not {value!r}."
                )
        if index not in ("hnsw", "exact"):
            raise ConfigurationError(f"index must be 'hnsw' or 'exact', not {index!r}.")
        self.dsn = dsn
        self.name = name
        self.schema = schema
        self.embedder = embedder
        self.index = index
        self.m, self.ef_construction, self.ef_search = int(m), int(ef_construction), int(ef_search)
        self.index_after = index_after
        self.maintenance_work_mem = maintenance_work_mem
        self._indexed = False
        self._want_model = model or (embedder.model if embedder else None)
        self._want_dims = dimensions or (embedder.dimensions if embedder else None)
        self._s = f'"{schema}"'
        self._table = f'"{schema}"."vectors_{name}"'
        self._conn: Any = None
        self._closed = False
        self._identity: tuple[str, int] | None = None
        self._mutex = asyncio.Lock()

    def __repr__(self) -> str:
        return f"PgVectorStore(name={self.name!r}, schema={self.schema!r})"

    @property
    def model(self) -> str | None:
        return self._identity[0] if self._identity else self._want_model

    @property
    def dimensions(self) -> int | None:
        return self._identity[1] if self._identity else self._want_dims

    async def __aenter__(self) -> PgVectorStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection; later calls raise ``StoreClosedError``."""
        self._closed = True
        async with self._mutex:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None

    async def _connection(self) -> Any:
        """The open connection (opened, and the schema checked, on first use). Hold the mutex."""
        if self._closed:
            raise StoreClosedError(f"{self!r} is closed.")
        if self._conn is not None:
            return self._conn
        psycopg = self._psycopg
        try:
            conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        except psycopg.Error as exc:
            raise VectorStoreError(f"cannot connect to Postgres for {self!r}: {exc}") from exc
        try:
            try:
                await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as exc:
                raise VectorStoreError(
                    f"pgvector is not available in this Postgres ({exc}). Install the extension "
                    "(https://github.com/pgvector/pgvector#installation) or use a Postgres build that has "
                    "it; see docs/embeddings.md."
                ) from exc
            await self._pgvector.register_vector_async(conn)
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self._s}")
            await conn.execute(REGISTRY.format(s=self._s))
            await self._load_identity(conn)
            check_identity(repr(self), self._identity, self._want_model, self._want_dims)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        return conn

    async def _load_identity(self, conn: Any) -> None:
        sql = f"SELECT model, dimensions FROM {self._s}.vector_stores WHERE name = %s"
        row = await (await conn.execute(sql, (self.name,))).fetchone()
        self._identity = (row[0], int(row[1])) if row else None

    async def _create(self, conn: Any, identity: tuple[str, int]) -> None:
        """Register the store and create its table and index, once."""
        model, dims = identity
        async with conn.transaction():
            await conn.execute(
                f"INSERT INTO {self._s}.vector_stores (name, model, dimensions) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (self.name, model, dims),
            )
            row = await (
                await conn.execute(
                    f"SELECT model, dimensions FROM {self._s}.vector_stores WHERE name = %s", (self.name,)
                )
            ).fetchone()
            check_identity(repr(self), (row[0], int(row[1])), model, dims)
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} (id text PRIMARY KEY, text text NOT NULL, "
                f"metadata jsonb NOT NULL, embedding vector({dims}) NOT NULL)"
            )
        self._identity = (row[0], int(row[1]))

    @property
    def _index_name(self) -> str:
        return f'"{self.schema}"."vectors_{self.name}_hnsw"'

    async def build_index(self) -> None:
        """Build the HNSW index now (after a bulk load), if the store uses one and lacks it."""
        await self._run(lambda conn: self._build_index(conn, force=True))

    async def _build_index(self, conn: Any, *, force: bool) -> None:
        if self.index != "hnsw" or self._indexed or self._identity is None:
            return
        row = await (await conn.execute("SELECT to_regclass(%s)", (self._index_name,))).fetchone()
        if row[0] is not None:
            self._indexed = True
            return
        if not force:
            row = await (await conn.execute(f"SELECT count(*) FROM {self._table}")).fetchone()
            if row[0] < self.index_after:
                return
        ddl = index_ddl(
            self._table, f"vectors_{self.name}_hnsw", self._identity[1], self.m, self.ef_construction
        )
        async with conn.transaction():
            await conn.execute(
                "SELECT set_config('maintenance_work_mem', %s, true)", (self.maintenance_work_mem,)
            )
            await conn.execute(ddl)
        self._indexed = True

    async def _run(self, fn: Any) -> Any:
        async with self._mutex:
            conn = await self._connection()
            try:
                if self._identity is None:  # another process may have created it since
                    await self._load_identity(conn)
                return await fn(conn)
            except self._psycopg.Error as exc:
                raise VectorStoreError(f"Postgres error in {self!r}: {exc}") from exc

    # --- writes ---

    async def add(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        vectors: npt.ArrayLike | None = None,
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Insert new rows; an id already stored raises ``VectorStoreError`` and writes nothing."""
        await self._write(ids, texts, vectors, metadata, replace=False)

    async def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        vectors: npt.ArrayLike | None = None,
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Insert rows, replacing those with the same id; all or nothing."""
        await self._write(ids, texts, vectors, metadata, replace=True)

    async def _write(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        vectors: npt.ArrayLike | None,
        metadata: Sequence[Mapping[str, Any]] | None,
        *,
        replace: bool,
    ) -> None:
        if self._closed:
            raise StoreClosedError(f"{self!r} is closed.")
        await self._run(lambda conn: asyncio.sleep(0))  # connect, and learn the store's model
        rows = (ids, texts, vectors, metadata)
        batch = await prepare_batch(
            repr(self), self._identity, (self._want_model, self._want_dims), self.embedder, rows
        )
        if batch is None:
            return
        identity = batch.identity
        sql = f"INSERT INTO {self._table} (id, text, metadata, embedding) VALUES (%s, %s, %s::jsonb, %s)"
        if replace:
            sql += (
                " ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text, metadata = EXCLUDED.metadata, "
                "embedding = EXCLUDED.embedding"
            )

        async def write(conn: Any) -> None:
            if self._identity is None:
                await self._create(conn, identity)
            try:
                async with conn.transaction(), conn.cursor() as cur:
                    await cur.executemany(
                        sql, list(zip(batch.ids, batch.texts, batch.metadata, batch.matrix, strict=True))
                    )
            except self._psycopg.errors.UniqueViolation as exc:
                raise VectorStoreError(
                    f"an id is already in {self!r}; use upsert() to replace: {exc}"
                ) from exc
            await self._build_index(conn, force=False)

        await self._run(write)

    async def delete(self, ids: Sequence[str] | None = None, *, filter: Filter | None = None) -> int:
        """Delete rows by id, or all rows matching ``filter``; return how many were deleted."""
        if (ids is None) == (filter is None):
            raise VectorStoreError("pass either ids or filter to delete().")
        if isinstance(ids, str):
            raise VectorStoreError("ids must be a sequence of strings, not a single string.")
        if ids is not None:
            where, params = "id = ANY(%s)", [list(ids)]
        else:
            where, params = metadata_where(check_filter(filter))

        async def delete(conn: Any) -> int:
            if self._identity is None:
                return 0
            cur = await conn.execute(f"DELETE FROM {self._table} WHERE {where}", params)
            return int(cur.rowcount)

        result: int = await self._run(delete)
        return result

    # --- reads ---

    async def count(self, filter: Filter | None = None) -> int:
        """How many rows match ``filter`` (all rows without one)."""
        where, params = metadata_where(check_filter(filter))

        async def count(conn: Any) -> int:
            if self._identity is None:
                return 0
            row = await (
                await conn.execute(f"SELECT count(*) FROM {self._table} WHERE {where}", params)
            ).fetchone()
            return int(row[0])

        result: int = await self._run(count)
        return result

    async def get(self, ids: Sequence[str]) -> dict[str, Document]:
        """The stored rows among ``ids``."""
        if isinstance(ids, str):
            raise VectorStoreError("ids must be a sequence of strings, not a single string.")

        async def get(conn: Any) -> dict[str, Document]:
            if self._identity is None:
                return {}
            cur = await conn.execute(
                f"SELECT id, text, metadata FROM {self._table} WHERE id = ANY(%s)", (list(ids),)
            )
            return {r[0]: Document(r[0], r[1], r[2]) for r in await cur.fetchall()}

        result: dict[str, Document] = await self._run(get)
        return result

    async def search(
        self, query: str | npt.ArrayLike, *, k: int = 10, filter: Filter | None = None
    ) -> list[Hit]:
        """The ``k`` rows most similar to ``query`` (text or vector), best first.

        With ``index="hnsw"`` the result is approximate (see ``ef_search``).

        Raises:
            VectorStoreError: A text query and no embedder, or a bad ``k`` or filter.
            DimensionMismatchError: The query vector has the wrong length.
            EmbeddingModelMismatchError: The embedder is not the store's model.
        """
        check_k(k)
        filters = check_filter(filter)
        await self._run(lambda conn: asyncio.sleep(0))  # connect, and learn the store's model
        vector = await query_vector(repr(self), query, self.embedder, self._identity)
        if self._identity is None:
            return []
        where, params = metadata_where(filters)
        distance = distance_sql(self._identity[1], self.index == "hnsw")
        sql = (
            f"SELECT id, text, metadata, -(embedding <#> %s) FROM {self._table} "
            f"WHERE {where} ORDER BY {distance} LIMIT %s"
        )

        async def search(conn: Any) -> list[Hit]:
            async with conn.transaction():
                if self.index == "hnsw":
                    await conn.execute(f"SET LOCAL hnsw.ef_search = {self.ef_search}")
                    if filters:
                        await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                cur = await conn.execute(sql, [vector, *params, vector, k])
                rows = await cur.fetchall()
            hits = [Hit(r[0], float(r[3]), r[1], r[2]) for r in rows]
            return sorted(hits, key=lambda h: -h.score)  # relaxed_order may be slightly out of order

        result: list[Hit] = await self._run(search)
        return result

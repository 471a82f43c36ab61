"""``SQLiteVectorStore``: the embedded default, one file, on the ``sqlite-vec`` extension.

The file rule: **vectors live in their own file, never in the sessions file.** Python's
``sqlite3`` (used by ``SQLiteSession``) cannot load extensions on every build, so this store uses
``apsw``, which links its own SQLite library; two SQLite libraries holding one file in one
process do not see each other's POSIX locks and can corrupt it (https://www.sqlite.org/howtocorrupt.html,
section 2.2.1, read 2026-11). The store refuses a file that holds agentkit sessions.

Rows live in one table, ``agentkit_vec_items`` (id, text, metadata as JSON, and the vector,
normalised to unit length, as a float32 blob in sqlite-vec's format). Search is exact:

- by default (``cache_vectors=True``) on a copy of the vectors in memory, loaded by the first
  search, kept in step with this store's own writes, and reloaded when another connection has
  written (``PRAGMA data_version``): NumPy's matrix-vector product is about 10x faster than a
  scan inside SQLite on this machine (``benchmarks/bench_vectors.py``);
- with ``cache_vectors=False``, inside SQLite with sqlite-vec's ``vec_distance_l2``; on unit
  vectors the L2 distance ``d`` gives the cosine similarity as ``1 - d**2 / 2``.

The vectors are not in a sqlite-vec ``vec0`` table: its KNN scan beat a plain scan (150 against
360 ms at 100,000 x 1,536 here), but reading all vectors back from it, which the in-memory copy
needs, took twice as long (6 against 3 s), and the in-memory copy answers in a tenth of either.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..exceptions import ConfigurationError, StoreClosedError, VectorStoreError
from ._mirror import Mirror
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
    import numpy as np
    import numpy.typing as npt

    from ._embedder import Embedder

__all__ = ["DEFAULT_PATH", "SQLiteVectorStore"]

DEFAULT_PATH = "agentkit_vectors.sqlite3"
"""The file used when no ``path`` is given, relative to the working directory."""

SCHEMA_VERSION = 1

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agentkit_vec_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agentkit_vec_items (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    embedding BLOB NOT NULL
);
"""


def _connect(path: str) -> Any:
    try:
        import apsw
        import sqlite_vec
    except ImportError as exc:
        raise ConfigurationError(
            "SQLiteVectorStore needs apsw and sqlite-vec: pip install 'agentkit-openai[embeddings]'"
        ) from exc
    try:
        conn = apsw.Connection(path)
    except apsw.Error as exc:
        raise VectorStoreError(f"cannot open {path}: {exc}") from exc
    try:
        conn.enable_load_extension(True)
        conn.load_extension(sqlite_vec.loadable_path())
        conn.enable_load_extension(False)
        conn.setbusytimeout(10_000)
        conn.execute("PRAGMA journal_mode = WAL")
    except apsw.Error as exc:
        conn.close()
        raise VectorStoreError(f"cannot open {path} as a vector store: {exc}") from exc
    conn.execute("PRAGMA cache_size = -262144")  # 256 MB: about 40,000 vectors of 1,536 dimensions
    return conn


def _where(filters: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for key, values in filters:
        ors = []
        for value in values:
            path = f'$."{key}"'
            if value is None:
                ors.append("json_type(metadata, ?) = 'null'")
                params.append(path)
            else:
                # json_extract gives 1/0 for true/false, as SQLite binds Python's True/False.
                ors.append("json_extract(metadata, ?) = ?")
                params += [path, value]
        clauses.append("(" + " OR ".join(ors) + ")")
    return (" AND ".join(clauses) or "1"), params


class SQLiteVectorStore:
    """A vector store in one SQLite file (sqlite-vec through apsw).

    Example::

        store = SQLiteVectorStore("vectors.sqlite3", embedder=Embedder(dimensions=256))
        await store.upsert(["a"], ["Paris is the capital of France."], metadata=[{"source": "a.md"}])
        hits = await store.search("capital of France", k=3)

    Args:
        path: The file (created if missing; ``":memory:"`` for a throw-away store). Never the
            sessions file: see the module docstring.
        embedder: Embeds texts on ``add``/``upsert`` without ``vectors`` and text queries.
        model: The embedding model name to record when there is no embedder.
        dimensions: The vector length, when known before the first write.
        cache_vectors: Keep a copy of the vectors in memory for exact search at NumPy speed
            (about 4 bytes x dimensions per row); ``False`` searches inside SQLite.

    Raises:
        ConfigurationError: The extra is not installed, or ``path`` is a sessions file.
        EmbeddingModelMismatchError: The file was built with another model or size.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_PATH,
        *,
        embedder: Embedder | None = None,
        model: str | None = None,
        dimensions: int | None = None,
        cache_vectors: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        self.embedder = embedder
        self.cache_vectors = cache_vectors
        self._want_model = model or (embedder.model if embedder else None)
        self._want_dims = dimensions or (embedder.dimensions if embedder else None)
        self._lock = threading.Lock()
        self._mirror: Mirror | None = None
        self._conn: Any = None
        try:
            self._conn = _connect(self.path)
            self._identity = self._open()
        except BaseException:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            raise

    def __repr__(self) -> str:
        return f"SQLiteVectorStore({self.path!r})"

    @property
    def model(self) -> str | None:
        return self._identity[0] if self._identity else self._want_model

    @property
    def dimensions(self) -> int | None:
        return self._identity[1] if self._identity else self._want_dims

    def _open(self) -> tuple[str, int] | None:
        import apsw

        try:
            return self._open_schema()
        except apsw.Error as exc:
            raise VectorStoreError(f"cannot open {self.path} as a vector store: {exc}") from exc

    def _open_schema(self) -> tuple[str, int] | None:
        tables = {row[0] for row in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "agentkit_items" in tables:
            raise ConfigurationError(
                f"{self.path} holds agentkit sessions; keep vectors in a file of their own "
                f"(e.g. {DEFAULT_PATH}): two SQLite libraries on one file can corrupt it."
            )
        with self._conn:
            self._conn.execute(_SCHEMA)
            meta = dict(self._conn.execute("SELECT key, value FROM agentkit_vec_meta").fetchall())
            if "schema_version" not in meta:
                self._conn.execute(
                    "INSERT INTO agentkit_vec_meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            elif meta["schema_version"] != str(SCHEMA_VERSION):
                raise VectorStoreError(
                    f"{self.path} has vector store schema {meta['schema_version']}; "
                    f"this agentkit reads {SCHEMA_VERSION}."
                )
        identity = (meta["model"], int(meta["dimensions"])) if "model" in meta else None
        check_identity(self.path, identity, self._want_model, self._want_dims)
        return identity

    def _load_identity(self, conn: Any) -> None:
        """Learn the model if another connection wrote the first vectors since this one opened."""
        if self._identity is None:
            meta = dict(conn.execute("SELECT key, value FROM agentkit_vec_meta").fetchall())
            if "model" in meta:
                self._identity = (meta["model"], int(meta["dimensions"]))

    # --- plumbing ---

    async def _call(self, fn: Callable[[Any], T]) -> T:
        if self._conn is None:
            raise StoreClosedError(f"{self!r} is closed.")
        return await asyncio.to_thread(self._locked, fn)

    def _locked(self, fn: Callable[[Any], T]) -> T:
        import apsw

        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreClosedError(f"{self!r} is closed.")
            try:
                self._load_identity(conn)
                return fn(conn)
            except apsw.Error as exc:
                raise VectorStoreError(f"SQLite error on {self.path}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the file; later calls raise ``StoreClosedError``. Closing twice is harmless."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
                self._mirror = None

    async def __aenter__(self) -> SQLiteVectorStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

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
        await self._call(self._load_identity)
        rows = (ids, texts, vectors, metadata)
        batch = await prepare_batch(
            self.path, self._identity, (self._want_model, self._want_dims), self.embedder, rows
        )
        if batch is None:
            return
        identity = batch.identity

        sql = "INSERT INTO agentkit_vec_items (id, text, metadata, embedding) VALUES (?, ?, ?, ?)"
        if replace:
            sql += (
                " ON CONFLICT (id) DO UPDATE SET text = excluded.text, metadata = excluded.metadata, "
                "embedding = excluded.embedding"
            )
        sql += " RETURNING rowid"

        def write(conn: Any) -> None:
            import apsw

            check_identity(self.path, self._identity, *identity)  # it may have been set meanwhile
            mirror = self._current_mirror(conn)
            rowids = []
            with conn:
                self._record_identity(conn, identity)
                rows = zip(batch.ids, batch.texts, batch.metadata, batch.matrix, strict=True)
                for id_, text, meta, vector in rows:
                    try:
                        rowids.append(conn.execute(sql, (id_, text, meta, vector.tobytes())).fetchone()[0])
                    except apsw.ConstraintError as exc:
                        raise VectorStoreError(
                            f"id {id_!r} is already in {self.path}; use upsert() to replace."
                        ) from exc
            self._identity = identity
            if mirror is not None:
                mirror.put(rowids, batch.matrix)

        await self._call(write)

    def _record_identity(self, conn: Any, identity: tuple[str, int]) -> None:
        if self._identity is None:
            conn.execute(
                "INSERT OR IGNORE INTO agentkit_vec_meta VALUES ('model', ?), ('dimensions', ?)", identity
            )

    def _current_mirror(self, conn: Any) -> Mirror | None:
        """The in-memory copy if it is up to date with the file, else ``None`` (and dropped)."""
        if (
            self._mirror is not None
            and self._mirror.version != conn.execute("PRAGMA data_version").fetchone()[0]
        ):
            self._mirror = None
        return self._mirror

    async def delete(self, ids: Sequence[str] | None = None, *, filter: Filter | None = None) -> int:
        """Delete rows by id, or all rows matching ``filter``; return how many were deleted."""
        if (ids is None) == (filter is None):
            raise VectorStoreError("pass either ids or filter to delete().")
        if isinstance(ids, str):
            raise VectorStoreError("ids must be a sequence of strings, not a single string.")
        if ids is not None:
            where, params = "id IN (SELECT value FROM json_each(?))", [json.dumps(list(ids))]
        else:
            where, params = _where(check_filter(filter))

        def delete(conn: Any) -> int:
            mirror = self._current_mirror(conn)
            with conn:
                sql = f"DELETE FROM agentkit_vec_items WHERE {where} RETURNING rowid"
                rowids = [r[0] for r in conn.execute(sql, params).fetchall()]
            if mirror is not None:
                mirror.remove(rowids)
            return len(rowids)

        return await self._call(delete)

    # --- reads ---

    async def count(self, filter: Filter | None = None) -> int:
        """How many rows match ``filter`` (all rows without one)."""
        where, params = _where(check_filter(filter))
        return await self._call(
            lambda c: int(
                c.execute(f"SELECT count(*) FROM agentkit_vec_items WHERE {where}", params).fetchone()[0]
            )
        )

    async def get(self, ids: Sequence[str]) -> dict[str, Document]:
        """The stored rows among ``ids``."""
        if isinstance(ids, str):
            raise VectorStoreError("ids must be a sequence of strings, not a single string.")
        rows = await self._call(
            lambda c: c.execute(
                "SELECT id, text, metadata FROM agentkit_vec_items "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(ids)),),
            ).fetchall()
        )
        return {r[0]: Document(r[0], r[1], json.loads(r[2])) for r in rows}

    async def search(
        self, query: str | npt.ArrayLike, *, k: int = 10, filter: Filter | None = None
    ) -> list[Hit]:
        """The ``k`` rows most similar to ``query`` (text or vector), best first.

        Raises:
            VectorStoreError: A text query and no embedder, or a bad ``k`` or filter.
            DimensionMismatchError: The query vector has the wrong length.
            EmbeddingModelMismatchError: The embedder is not the store's model.
        """
        check_k(k)
        filters = check_filter(filter)
        await self._call(self._load_identity)
        vector = await query_vector(self.path, query, self.embedder, self._identity)
        if self._identity is None:
            return []
        where, params = _where(filters)

        def search(conn: Any) -> list[tuple[int, float]]:
            if self.cache_vectors:
                return self._search_memory(conn, vector, k, where if filters else None, params)
            sql = (
                "SELECT rowid, vec_distance_l2(embedding, ?) AS d FROM agentkit_vec_items "
                f"WHERE {where} ORDER BY d LIMIT ?"
            )
            rows = conn.execute(sql, (vector.tobytes(), *params, k)).fetchall()
            return [(r[0], 1.0 - r[1] * r[1] / 2.0) for r in rows]

        def fetch(conn: Any) -> list[Hit]:
            scored = search(conn)
            rows = {
                r[0]: r[1:]
                for r in conn.execute(
                    "SELECT rowid, id, text, metadata FROM agentkit_vec_items "
                    "WHERE rowid IN (SELECT value FROM json_each(?))",
                    (json.dumps([rowid for rowid, _ in scored]),),
                )
            }
            return [
                Hit(rows[rowid][0], float(score), rows[rowid][1], json.loads(rows[rowid][2]))
                for rowid, score in scored
                if rowid in rows
            ]

        return await self._call(fetch)

    def _search_memory(
        self, conn: Any, vector: np.ndarray[Any, Any], k: int, where: str | None, params: list[Any]
    ) -> list[tuple[int, float]]:
        import numpy as np

        mirror = self._current_mirror(conn)
        if mirror is None:
            assert self._identity is not None
            mirror = self._mirror = Mirror.load(conn, self._identity[1])
        among = None
        if where is not None:
            sql = f"SELECT rowid FROM agentkit_vec_items WHERE {where} ORDER BY rowid"
            among = np.array([r[0] for r in conn.execute(sql, params)], dtype=np.int64)
        return mirror.search(vector, k, among)

"""The service's objects in Postgres, in the schema that holds the threads (``PostgresSession``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from ..exceptions import ConfigurationError, SessionError
from ..sessions import Session
from ._store import GroupCommit, Order, Page, PageQuery, Record, cursor_error

_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.serve_objects (
    seq bigserial PRIMARY KEY,
    kind text NOT NULL,
    id text NOT NULL,
    owner text NOT NULL,
    parent text NOT NULL,
    data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, id)
);
CREATE INDEX IF NOT EXISTS serve_objects_list ON {s}.serve_objects (kind, owner, parent, seq);
CREATE INDEX IF NOT EXISTS serve_objects_parent ON {s}.serve_objects (parent);
CREATE TABLE IF NOT EXISTS {s}.serve_events (
    run_id text NOT NULL,
    seq bigint NOT NULL,
    event text NOT NULL,
    PRIMARY KEY (run_id, seq)
)
"""


class PostgresStore:
    """The service's objects in Postgres, on a small pool of connections.

    Args:
        dsn: A libpq connection string, e.g. ``"postgresql://app@127.0.0.1:5432/app"``.
        schema: The Postgres schema of the threads and of these tables.
        pool_size: Connections kept open for the service's own queries (each running thread's
            ``PostgresSession`` has its own connection besides).
    """

    def __init__(self, dsn: str, *, schema: str = "agentkit", pool_size: int = 4) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise ConfigurationError(
                "A Postgres store needs psycopg 3: pip install 'agentkit-openai[postgres]'"
            ) from exc
        if not schema.replace("_", "a").isalnum():
            raise ConfigurationError(f"schema must be a plain SQL identifier, not {schema!r}.")
        self._psycopg = psycopg
        self.dsn = dsn
        self.schema = schema
        self.url = f"postgresql://{dsn.split('@')[-1]}#{schema}"
        self._s = f'"{schema}"'
        self._pool: asyncio.Queue[Any] = asyncio.Queue()
        self._opened = 0
        self._pool_size = pool_size
        self._ready = asyncio.Lock()
        self._schema_done = False
        self._commits = GroupCommit(self._save_batch)

    def session(self, thread_id: str) -> Session:
        from ..sessions import PostgresSession

        return PostgresSession(thread_id, self.dsn, schema=self.schema)

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[Any]:
        if self._pool.empty() and self._opened < self._pool_size:
            self._opened += 1
            try:
                conn = await self._psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
            except BaseException:
                self._opened -= 1
                raise
            await self._ensure_schema(conn)
        else:
            conn = await self._pool.get()
        try:
            yield conn
        finally:
            if conn.closed:
                self._opened -= 1
            else:
                self._pool.put_nowait(conn)

    async def _ensure_schema(self, conn: Any) -> None:
        async with self._ready:
            if self._schema_done:
                return
            # The session tables (threads, items) are created by PostgresSession on first use.
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"serve:{self.schema}",))
                for statement in _DDL.replace("{s}", self._s).split(";"):
                    await conn.execute(statement)
            self._schema_done = True

    async def _execute(self, sql: str, params: Any = (), *, fetch: bool = False) -> list[tuple[Any, ...]]:
        try:
            async with self._conn() as conn:
                cur = await conn.execute(sql.replace("{s}", self._s), params)
                return list(await cur.fetchall()) if fetch else [(cur.rowcount,)]
        except self._psycopg.Error as exc:
            raise SessionError(f"Postgres error: {exc}") from exc

    async def save(self, records: Sequence[Record], events: Sequence[tuple[str, int, str]] = ()) -> None:
        await self._commits.save(records, events)

    async def _save_batch(self, records: list[Record], events: list[tuple[str, int, str]]) -> None:
        rows = [(r.kind, r.id, r.owner, r.parent, json.dumps(r.data, ensure_ascii=False)) for r in records]
        try:
            async with self._conn() as conn, conn.transaction(), conn.cursor() as cur:
                if rows:
                    await cur.executemany(
                        f"INSERT INTO {self._s}.serve_objects (kind, id, owner, parent, data) "
                        "VALUES (%s, %s, %s, %s, %s) "
                        "ON CONFLICT (kind, id) DO UPDATE SET data = EXCLUDED.data",
                        rows,
                    )
                if events:
                    await cur.executemany(
                        f"INSERT INTO {self._s}.serve_events (run_id, seq, event) VALUES (%s, %s, %s) "
                        "ON CONFLICT DO NOTHING",
                        list(events),
                    )
        except self._psycopg.Error as exc:
            raise SessionError(f"Postgres error: {exc}") from exc

    async def get(self, kind: str, id: str, owner: str | None) -> dict[str, Any] | None:
        rows = await self._execute(
            "SELECT owner, data FROM {s}.serve_objects WHERE kind = %s AND id = %s", (kind, id), fetch=True
        )
        if not rows or (owner is not None and rows[0][0] != owner):
            return None
        data: dict[str, Any] = rows[0][1]
        return data

    async def page(
        self,
        kind: str,
        owner: str | None,
        *,
        parent: str = "",
        order: Order = "desc",
        after: str | None = None,
        before: str | None = None,
        limit: int = 20,
    ) -> Page:
        query = PageQuery(kind, owner, parent, order, after, before, limit, "%s")
        table = f"{self._s}.serve_objects"
        seqs = {}
        for name, cursor, sql, params in query.cursors(table):
            rows = await self._execute(sql, params, fetch=True)
            if not rows:
                raise cursor_error(name, cursor)
            seqs[name] = rows[0][0]
        sql, params = query.select(table, seqs)
        return query.page([r[0] for r in await self._execute(sql, params, fetch=True)])

    async def delete(self, kind: str, id: str, owner: str | None) -> bool:
        if owner is None:
            rows = await self._execute(
                "DELETE FROM {s}.serve_objects WHERE kind = %s AND id = %s", (kind, id)
            )
        else:
            rows = await self._execute(
                "DELETE FROM {s}.serve_objects WHERE kind = %s AND id = %s AND owner = %s", (kind, id, owner)
            )
        return bool(rows[0][0])

    async def delete_children(self, parent: str) -> None:
        await self._execute("DELETE FROM {s}.serve_objects WHERE parent = %s", (parent,))

    async def load_events(self, run_id: str, after: int) -> list[tuple[int, str]]:
        rows = await self._execute(
            "SELECT seq, event FROM {s}.serve_events WHERE run_id = %s AND seq > %s ORDER BY seq",
            (run_id, after),
            fetch=True,
        )
        return [(r[0], r[1]) for r in rows]

    async def delete_events(self, run_ids: Sequence[str]) -> None:
        if run_ids:
            await self._execute("DELETE FROM {s}.serve_events WHERE run_id = ANY(%s)", (list(run_ids),))

    async def aclose(self) -> None:
        await self._commits.drain()
        while not self._pool.empty():
            conn = self._pool.get_nowait()
            self._opened -= 1
            await conn.close()

"""``SQLiteStore``: the service's objects in the SQLite file that holds the threads."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..exceptions import SessionError
from ..sessions import Session, SQLiteSession
from ._store import GroupCommit, Order, Page, PageQuery, Record, cursor_error

T = TypeVar("T")

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS agentkit_serve_objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    owner TEXT NOT NULL,
    parent TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (kind, id)
);
CREATE INDEX IF NOT EXISTS agentkit_serve_objects_list ON agentkit_serve_objects (kind, owner, parent, seq);
CREATE INDEX IF NOT EXISTS agentkit_serve_objects_parent ON agentkit_serve_objects (parent);
CREATE TABLE IF NOT EXISTS agentkit_serve_events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""


class SQLiteStore:
    """The service's objects in the SQLite file that also holds the threads.

    It shares the one connection per file that this process's ``SQLiteSession`` objects use
    (and its mutex): two connections to one file would wait on each other's write lock in
    SQLite's busy handler, which sleeps in steps of up to 100 ms.

    Args:
        path: The SQLite file (created when missing).
        busy_timeout: Seconds a write waits for another process's write.
    """

    def __init__(self, path: str, *, busy_timeout: float = 30.0) -> None:
        self.path = os.path.realpath(path)
        self.url = f"sqlite:///{self.path}"
        self.busy_timeout = busy_timeout
        self._shared: Any = None
        self._schema_lock = threading.Lock()
        self._commits = GroupCommit(self._save_batch)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []

    def session(self, thread_id: str) -> Session:
        return SQLiteSession(thread_id, self.path, busy_timeout=self.busy_timeout)

    def _reading(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        # Reads use a connection per worker thread: in WAL mode they never wait for a writer,
        # whereas the shared connection would queue them behind every commit.
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self._run(lambda _c: None)  # the schema exists before the first read
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._local.conn = conn
            self._readers.append(conn)
        try:
            return fn(conn)
        except sqlite3.Error as exc:
            raise SessionError(f"SQLite error on {self.path}: {exc}") from exc

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._shared is None:
            # The sessions' per-file connection (private to agentkit.sessions; see the class doc).
            from ..sessions._sqlite import _open_store

            with self._schema_lock:
                if self._shared is None:
                    shared = _open_store(self.path, self.busy_timeout)
                    shared.call(lambda conn: conn.executescript(_SQLITE_SCHEMA))
                    self._shared = shared
        result: T = self._shared.call(fn)
        return result

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, self._run, fn)

    async def _write(self, *statements: tuple[str, Sequence[Sequence[Any]]]) -> int:
        """Run ``(sql, rows)`` pairs in one transaction; return the rows changed by the last."""

        def write(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            count = 0
            for sql, rows in statements:
                count = conn.executemany(sql, rows).rowcount
            conn.execute("COMMIT")
            return count

        return await self._call(write)

    async def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._reading, lambda c: c.execute(sql, params).fetchall())

    async def save(self, records: Sequence[Record], events: Sequence[tuple[str, int, str]] = ()) -> None:
        await self._commits.save(records, events)

    async def _save_batch(self, records: list[Record], events: list[tuple[str, int, str]]) -> None:
        stamp = time.time()
        rows = [(r.kind, r.id, r.owner, r.parent, _encode(r.data), stamp) for r in records]
        await self._write(
            (
                "INSERT INTO agentkit_serve_objects (kind, id, owner, parent, data, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
                rows,
            ),
            ("INSERT OR IGNORE INTO agentkit_serve_events (run_id, seq, event) VALUES (?, ?, ?)", events),
        )

    async def get(self, kind: str, id: str, owner: str | None) -> dict[str, Any] | None:
        rows = await self._read(
            "SELECT owner, data FROM agentkit_serve_objects WHERE kind = ? AND id = ?", (kind, id)
        )
        if not rows or (owner is not None and rows[0][0] != owner):
            return None
        return _decode(rows[0][1])

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
        query = PageQuery(kind, owner, parent, order, after, before, limit, "?")
        run = functools.partial(_sqlite_page, query)
        return await asyncio.get_running_loop().run_in_executor(None, self._reading, run)

    async def delete(self, kind: str, id: str, owner: str | None) -> bool:
        if owner is None:
            sql = "DELETE FROM agentkit_serve_objects WHERE kind = ? AND id = ?"
            params: tuple[str, ...] = (kind, id)
        else:
            sql = "DELETE FROM agentkit_serve_objects WHERE kind = ? AND id = ? AND owner = ?"
            params = (kind, id, owner)
        return await self._write((sql, [params])) > 0

    async def delete_children(self, parent: str) -> None:
        await self._write(("DELETE FROM agentkit_serve_objects WHERE parent = ?", [(parent,)]))

    async def load_events(self, run_id: str, after: int) -> list[tuple[int, str]]:
        rows = await self._read(
            "SELECT seq, event FROM agentkit_serve_events WHERE run_id = ? AND seq > ? ORDER BY seq",
            (run_id, after),
        )
        return [(r[0], r[1]) for r in rows]

    async def delete_events(self, run_ids: Sequence[str]) -> None:
        if run_ids:
            await self._write(("DELETE FROM agentkit_serve_events WHERE run_id = ?", [(r,) for r in run_ids]))

    async def aclose(self) -> None:
        await self._commits.drain()
        readers, self._readers = self._readers, []
        self._local = threading.local()
        for conn in readers:
            conn.close()
        # The shared connection belongs to the sessions' cache and closes when its last user is gone.
        self._shared = None


def _sqlite_page(query: PageQuery, conn: sqlite3.Connection) -> Page:
    table = "agentkit_serve_objects"
    seqs = {}
    for name, cursor, sql, params in query.cursors(table):
        row = conn.execute(sql, params).fetchone()
        if row is None:
            raise cursor_error(name, cursor)
        seqs[name] = row[0]
    sql, params = query.select(table, seqs)
    return query.page([_decode(r[0]) for r in conn.execute(sql, params).fetchall()])


def _encode(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _decode(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    assert isinstance(value, dict)
    return value

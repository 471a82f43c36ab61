"""``SQLiteSession``: the embedded default; one file, no server.

The file is in WAL mode with ``synchronous=FULL``: a committed append survives a power cut.
Each process keeps one connection per file, shared by all its sessions and used from worker
threads under a mutex, so sessions of one process never contend for SQLite's write lock; other
processes wait on ``busy_timeout``. Writes start with ``BEGIN IMMEDIATE`` so that a waiting
writer goes through the busy handler instead of failing with "database is locked".
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

from .._config import check_number
from ..exceptions import SessionCorruptError, SessionError
from ._codec import SCHEMA_VERSION, acquire_polling, check_version, decode_item, encode_items, missing_version
from ._definitions import AgentDefinition
from ._filelock import range_locks

DEFAULT_PATH = "agentkit_sessions.sqlite3"
"""The file used when no ``path`` is given, relative to the working directory."""

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agentkit_items (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    item TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS agentkit_items_by_session ON agentkit_items (session_id, id);
CREATE TABLE IF NOT EXISTS agentkit_definitions (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


class _Store:
    """One connection to one file, for every session of this process that uses the file."""

    def __init__(self, path: str, busy_timeout: float) -> None:
        self.path = path
        self._mutex = threading.Lock()
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        self._finalizer = weakref.finalize(self, conn.close)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            _ensure_schema(conn, path)
        except BaseException:
            self._finalizer()
            raise
        self._conn = conn

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` with the connection (in a worker thread), mapping SQLite errors."""
        with self._mutex:
            try:
                return fn(self._conn)
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.rollback()
                raise _session_error(exc, self.path) from exc


def _session_error(exc: sqlite3.Error, path: str) -> SessionError:
    if isinstance(exc, sqlite3.OperationalError):
        return SessionError(f"SQLite error on {path}: {exc}")
    if isinstance(exc, sqlite3.DatabaseError):
        return SessionCorruptError(f"{path} is damaged: {exc}")
    return SessionError(f"SQLite error on {path}: {exc}")


def _ensure_schema(conn: sqlite3.Connection, path: str) -> None:
    try:
        row = conn.execute("SELECT value FROM agentkit_meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        row = None  # no meta table yet
    if row is not None:
        check_version(row[0], where=path)
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS agentkit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM agentkit_meta WHERE key = 'schema_version'").fetchone()
        if row is not None:  # another process created it meanwhile
            check_version(row[0], where=path)
        elif conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' "
            "AND name IN ('agentkit_items', 'agentkit_definitions')"
        ).fetchone():
            raise missing_version(path)
        else:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO agentkit_meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


_stores: weakref.WeakValueDictionary[tuple[int, str], _Store] = weakref.WeakValueDictionary()
_stores_mutex = threading.Lock()


def _open_store(path: str, busy_timeout: float) -> _Store:
    key = (os.getpid(), path)  # never reuse a connection inherited through fork()
    with _stores_mutex:
        store = _stores.get(key)
        if store is None:
            try:
                store = _Store(path, busy_timeout)
            except sqlite3.Error as exc:
                raise _session_error(exc, path) from exc
            _stores[key] = store
        return store


class SQLiteSession:
    """A thread stored in a SQLite file.

    Args:
        session_id: The thread's id, e.g. ``"user-42"``.
        path: The database file; ``./agentkit_sessions.sqlite3`` by default. A lock file with
            ``.lock`` appended sits beside it.
        lock_timeout: Seconds ``lock()`` waits while another run holds this thread before
            ``SessionBusyError`` (0: fail at once).
        busy_timeout: Seconds a write waits for another process's write to finish.
    """

    def __init__(
        self,
        session_id: str,
        path: str | os.PathLike[str] | None = None,
        *,
        lock_timeout: float = 0.0,
        busy_timeout: float = 30.0,
    ) -> None:
        check_number("SQLiteSession(lock_timeout=...)", lock_timeout, minimum=0)
        check_number("SQLiteSession(busy_timeout=...)", busy_timeout, minimum=0)
        self.session_id = session_id
        self.path = os.path.realpath(os.fspath(path) if path is not None else DEFAULT_PATH)
        self.lock_timeout = lock_timeout
        self.busy_timeout = busy_timeout
        self._store: _Store | None = None

    def __repr__(self) -> str:
        return f"SQLiteSession({self.session_id!r}, path={self.path!r})"

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        if self._store is None:
            self._store = await loop.run_in_executor(None, _open_store, self.path, self.busy_timeout)
        return await loop.run_in_executor(None, self._store.call, fn)

    async def load(self) -> list[dict[str, Any]]:
        """Return every item of this thread, oldest first.

        Raises:
            SessionCorruptError: A row is not a JSON object.
        """
        return await self._call(functools.partial(_load, self.session_id, self.path))

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        """Store ``items`` after the existing ones, in one transaction."""
        encoded = encode_items(items)
        if encoded:
            await self._call(functools.partial(_append, self.session_id, encoded))

    async def clear(self) -> None:
        """Delete every item of this thread."""
        await self._call(
            functools.partial(_write, "DELETE FROM agentkit_items WHERE session_id = ?", (self.session_id,))
        )

    async def list_sessions(self) -> list[str]:
        """Return the ids of all non-empty threads in this file."""
        return await self._call(_list_sessions)

    async def session_stats(self) -> list[tuple[str, int, float]]:
        """Return ``(session_id, item count, last write as a Unix time)`` for every thread."""
        return await self._call(_session_stats)

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold this thread for one run, across every process that uses this file."""
        return self._lock()

    @asynccontextmanager
    async def _lock(self) -> AsyncIterator[None]:
        locks = range_locks(self.path + ".lock")

        async def try_acquire() -> bool:
            return locks.try_acquire(self.session_id)

        await acquire_polling(try_acquire, timeout=self.lock_timeout, session_id=self.session_id)
        try:
            yield
        finally:
            locks.release(self.session_id)

    async def save_definition(self, definition: AgentDefinition) -> None:
        """Store ``definition`` under its name."""
        (raw,) = encode_items([definition.to_json()])
        sql = "INSERT OR REPLACE INTO agentkit_definitions (name, definition, updated_at) VALUES (?, ?, ?)"
        await self._call(functools.partial(_write, sql, (definition.name, raw, time.time())))

    async def load_definition(self, name: str) -> AgentDefinition:
        """Return the definition saved as ``name`` (``KeyError`` if there is none)."""
        sql = "SELECT definition FROM agentkit_definitions WHERE name = ?"
        rows = await self._call(functools.partial(_read, sql, (name,)))
        if not rows:
            raise KeyError(name)
        where = f"definition {name!r} in {self.path}"
        return AgentDefinition.from_json(decode_item(rows[0][0], where=where), where=where)

    async def list_definitions(self) -> list[str]:
        """Return the names of every saved definition."""
        rows = await self._call(
            functools.partial(_read, "SELECT name FROM agentkit_definitions ORDER BY name", ())
        )
        return [r[0] for r in rows]

    async def delete_definition(self, name: str) -> None:
        """Delete the definition saved as ``name``, if any."""
        await self._call(
            functools.partial(_write, "DELETE FROM agentkit_definitions WHERE name = ?", (name,))
        )


def _load(session_id: str, path: str, conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, item FROM agentkit_items WHERE session_id = ? ORDER BY id", (session_id,)
    ).fetchall()
    return [
        decode_item(item, where=f"row {rowid} of session {session_id!r} in {path}") for rowid, item in rows
    ]


def _append(session_id: str, encoded: list[str], conn: sqlite3.Connection) -> None:
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO agentkit_items (session_id, item, created_at) VALUES (?, ?, ?)",
        [(session_id, raw, now) for raw in encoded],
    )
    conn.execute("COMMIT")


def _write(sql: str, params: tuple[Any, ...], conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(sql, params)
    conn.execute("COMMIT")


def _read(sql: str, params: tuple[Any, ...], conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(sql, params).fetchall()


def _list_sessions(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT session_id FROM agentkit_items ORDER BY session_id")]


def _session_stats(conn: sqlite3.Connection) -> list[tuple[str, int, float]]:
    sql = "SELECT session_id, count(*), max(created_at) FROM agentkit_items GROUP BY session_id ORDER BY 1"
    return [(r[0], r[1], r[2]) for r in conn.execute(sql)]

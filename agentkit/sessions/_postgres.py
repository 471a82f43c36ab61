"""``PostgresSession``: threads shared by several worker processes or machines (psycopg 3).

Tables live in their own schema (``agentkit`` by default). Order within a thread comes from a
per-thread counter in ``threads`` that every append bumps in the same statement as its insert;
the row lock on that counter serializes appends to one thread, so order is commit order even
across processes (a global sequence would not be). The run lock is a session-level advisory
lock, which Postgres drops by itself when the holder's connection dies.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any

from .._config import check_number
from ..exceptions import ConfigurationError, SessionError
from ._codec import SCHEMA_VERSION, acquire_polling, check_version, decode_item, encode_items, missing_version
from ._definitions import AgentDefinition

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.threads (
    session_id text PRIMARY KEY,
    next_seq bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {s}.items (
    session_id text NOT NULL,
    seq bigint NOT NULL,
    item text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS {s}.definitions (
    name text PRIMARY KEY,
    definition text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""

# One statement, so one transaction and one round trip: bump the thread's counter (taking its
# row lock) and insert the items numbered just below the new value.
_APPEND = """
WITH t AS (
    INSERT INTO {s}.threads AS t (session_id, next_seq) VALUES (%(sid)s, %(n)s)
    ON CONFLICT (session_id) DO UPDATE SET next_seq = t.next_seq + EXCLUDED.next_seq, updated_at = now()
    RETURNING next_seq
)
INSERT INTO {s}.items (session_id, seq, item)
SELECT %(sid)s, t.next_seq - %(n)s + i.ord, i.item
FROM t, unnest(%(items)s::text[]) WITH ORDINALITY AS i (item, ord)
"""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigurationError(
            "PostgresSession needs psycopg 3: pip install 'agentkit-openai[postgres]'"
        ) from exc
    return psycopg


def _key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key."""
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresSession:
    """A thread stored in Postgres.

    The session opens one connection on first use; close it with ``await session.aclose()`` or
    ``async with PostgresSession(...) as session:``.

    Args:
        session_id: The thread's id.
        dsn: A libpq connection string, e.g. ``"postgresql://app@db:5432/app"``.
        schema: The Postgres schema holding the tables; created if missing.
        lock_timeout: Seconds ``lock()`` waits while another run holds this thread before
            ``SessionBusyError`` (0: fail at once).
    """

    def __init__(
        self, session_id: str, dsn: str, *, schema: str = "agentkit", lock_timeout: float = 0.0
    ) -> None:
        check_number("PostgresSession(lock_timeout=...)", lock_timeout, minimum=0)
        psycopg = _import_psycopg()
        self.session_id = session_id
        self.dsn = dsn
        self.schema = schema
        self.lock_timeout = lock_timeout
        self._psycopg = psycopg
        self._conn: Any = None
        self._mutex = asyncio.Lock()
        self._held = False
        if not _IDENTIFIER.fullmatch(schema):
            raise ConfigurationError(
                f"schema must be a plain SQL identifier (letters, digits, _), not {schema!r}."
            )
        s = f'"{schema}"'
        self._sql = {name: text.replace("{s}", s) for name, text in {"ddl": _DDL, "append": _APPEND}.items()}
        self._s = s

    def __repr__(self) -> str:
        return f"PostgresSession({self.session_id!r}, schema={self.schema!r})"

    async def __aenter__(self) -> PostgresSession:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection (it is reopened if the session is used again)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def _execute(self, query: str, params: Any = None, *, fetch: bool = False) -> list[tuple[Any, ...]]:
        psycopg = self._psycopg
        async with self._mutex:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
                    await self._ensure_schema(self._conn)
                cur = await self._conn.execute(query, params)
                return list(await cur.fetchall()) if fetch else []
            except psycopg.Error as exc:
                raise SessionError(f"Postgres error: {exc}") from exc

    async def _ensure_schema(self, conn: Any) -> None:
        s = self._s
        async with conn.transaction():
            # Serializes concurrent first connections: CREATE ... IF NOT EXISTS can race.
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_key("agentkit-schema", self.schema),))
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {s}.meta (key text PRIMARY KEY, value text NOT NULL)"
            )
            cur = await conn.execute(f"SELECT value FROM {s}.meta WHERE key = 'schema_version'")
            row = await cur.fetchone()
            if row is not None:
                check_version(row[0], where=f"Postgres schema {self.schema!r}")
                return
            cur = await conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name IN ('threads', 'items', 'definitions')",
                (self.schema,),
            )
            if await cur.fetchone() is not None:
                raise missing_version(f"Postgres schema {self.schema!r}")
            for statement in self._sql["ddl"].split(";"):
                await conn.execute(statement)
            await conn.execute(
                f"INSERT INTO {s}.meta (key, value) VALUES ('schema_version', %s)", (str(SCHEMA_VERSION),)
            )

    async def load(self) -> list[dict[str, Any]]:
        """Return every item of this thread, oldest first.

        Raises:
            SessionCorruptError: A row is not a JSON object.
        """
        rows = await self._execute(
            f"SELECT seq, item FROM {self._s}.items WHERE session_id = %s ORDER BY seq",
            (self.session_id,),
            fetch=True,
        )
        where = f"item {{}} of session {self.session_id!r} in Postgres schema {self.schema!r}"
        return [decode_item(item, where=where.format(seq)) for seq, item in rows]

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        """Store ``items`` after the existing ones, in one transaction."""
        encoded = encode_items(items)
        if encoded:
            params = {"sid": self.session_id, "n": len(encoded), "items": encoded}
            await self._execute(self._sql["append"], params)

    async def clear(self) -> None:
        """Delete every item of this thread."""
        s = self._s
        await self._execute(
            f"WITH t AS (DELETE FROM {s}.threads WHERE session_id = %(sid)s) "
            f"DELETE FROM {s}.items WHERE session_id = %(sid)s",
            {"sid": self.session_id},
        )

    async def list_sessions(self) -> list[str]:
        """Return the ids of all non-empty threads in this schema."""
        rows = await self._execute(
            f"SELECT session_id FROM {self._s}.threads ORDER BY session_id", fetch=True
        )
        return [r[0] for r in rows]

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold this thread for one run, across every process and machine using this database."""
        return self._lock()

    @asynccontextmanager
    async def _lock(self) -> AsyncIterator[None]:
        key = _key(self.schema, self.session_id)

        async def try_acquire() -> bool:
            # Advisory locks are re-entrant per connection, so this object tracks its own hold.
            if self._held:
                return False
            # Claim the hold before awaiting, so a second task on this object cannot slip in
            # while the query runs (the database would grant it the same lock again).
            self._held = True
            try:
                rows = await self._execute("SELECT pg_try_advisory_lock(%s)", (key,), fetch=True)
            except BaseException:
                self._held = False
                raise
            self._held = bool(rows[0][0])
            return self._held

        await acquire_polling(try_acquire, timeout=self.lock_timeout, session_id=self.session_id)
        try:
            yield
        finally:
            self._held = False
            if self._conn is not None and not self._conn.closed:
                await self._execute("SELECT pg_advisory_unlock(%s)", (key,))

    async def save_definition(self, definition: AgentDefinition) -> None:
        """Store ``definition`` under its name."""
        (raw,) = encode_items([definition.to_json()])
        await self._execute(
            f"INSERT INTO {self._s}.definitions (name, definition) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, updated_at = now()",
            (definition.name, raw),
        )

    async def load_definition(self, name: str) -> AgentDefinition:
        """Return the definition saved as ``name`` (``KeyError`` if there is none)."""
        rows = await self._execute(
            f"SELECT definition FROM {self._s}.definitions WHERE name = %s", (name,), fetch=True
        )
        if not rows:
            raise KeyError(name)
        where = f"definition {name!r} in Postgres schema {self.schema!r}"
        return AgentDefinition.from_json(decode_item(rows[0][0], where=where), where=where)

    async def list_definitions(self) -> list[str]:
        """Return the names of every saved definition."""
        rows = await self._execute(f"SELECT name FROM {self._s}.definitions ORDER BY name", fetch=True)
        return [r[0] for r in rows]

    async def delete_definition(self, name: str) -> None:
        """Delete the definition saved as ``name``, if any."""
        await self._execute(f"DELETE FROM {self._s}.definitions WHERE name = %s", (name,))

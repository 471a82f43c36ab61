"""agentkit's own tables next to DBOS's: which tool calls were started, and which workers live.

DBOS records a step only when it finishes, so it cannot tell a tool call that was in flight at a
crash from one that never started; ``tool_calls`` can (a row is written just before the tool
runs). ``executors`` holds each worker's heartbeat for the reaper.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

SCHEMA = "agentkit_durable"
_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.tool_calls ("
    "idempotency_key text PRIMARY KEY, run_id text NOT NULL, started_at timestamptz NOT NULL DEFAULT now())",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.executors ("
    "executor_id text PRIMARY KEY, beat timestamptz NOT NULL)",
)
# Serializes concurrent creation of the schema by several workers (CREATE ... IF NOT EXISTS races).
_DDL_LOCK = 7_470_117


def create_tables(url: str) -> None:
    """Create the tables if they do not exist (safe to call from several processes at once)."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        for statement in _DDL:
            conn.execute(statement)  # type: ignore[arg-type]  # constant SQL


class ToolCallLog:
    """Marks tool calls as started, over one connection per worker (its event loop)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock: asyncio.Lock | None = None

    async def start(self, key: str, run_id: str) -> bool:
        """Record that the call ``key`` starts; return ``False`` if it had started before."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            cursor = await self._conn.execute(
                f"INSERT INTO {SCHEMA}.tool_calls (idempotency_key, run_id) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING RETURNING 1",
                (key, run_id),
            )
            return await cursor.fetchone() is not None

    async def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

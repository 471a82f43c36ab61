"""Helpers and data for the session tests: one isolated store per test, on each of the four backends.

Postgres and Redis are the real servers started by ``.ci/services.sh``. Without them the tests
that need them skip with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import functools
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agentkit.sessions import MemorySession, MemoryStore, SQLiteSession

POSTGRES_DSN = os.environ.get("AGENTKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:25329/postgres")
REDIS_URL = os.environ.get("AGENTKIT_TEST_REDIS_URL", "redis://127.0.0.1:63799/0")
BACKENDS = ["memory", "sqlite", "postgres", "redis"]

CHAT = [
    {"role": "user", "content": "Weather in Paris and Tokyo? Ünïcödé ☀"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city":"Tokyo"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_2", "content": "rain"},
    {"role": "tool", "tool_call_id": "call_1", "content": "sun"},
    {"role": "assistant", "content": "Sun in Paris, rain in Tokyo."},
]
RESPONSES = [
    {"role": "user", "content": "hi"},
    {"type": "reasoning", "id": "rs_1", "summary": []},
    {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": "{}", "id": "fc_1"},
    {"type": "function_call_output", "call_id": "c1", "output": "sun"},
    {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Sun.", "annotations": []}],
    },
]


@functools.cache
def _unreachable(kind: str) -> str | None:
    """Why the server for ``kind`` cannot be used, or None when it answers."""
    try:
        if kind == "postgres":
            import psycopg

            psycopg.connect(POSTGRES_DSN, connect_timeout=3).close()
        else:
            import redis

            client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
            try:
                client.ping()
            finally:
                client.close()
    except Exception as exc:
        target = POSTGRES_DSN if kind == "postgres" else REDIS_URL
        return (
            f"{kind} is not reachable at {target} ({type(exc).__name__}: {exc}); run `bash .ci/services.sh`"
        )
    return None


def require_server(kind: str) -> None:
    """Skip (locally) or fail (under CI) when the real server is not running."""
    reason = _unreachable(kind)
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must test against real servers: {reason}")
    pytest.skip(reason)


@dataclass
class Backend:
    """Makes sessions that all share one fresh, isolated store."""

    kind: str
    """``"memory"``, ``"sqlite"``, ``"postgres"`` or ``"redis"``."""
    options: dict[str, Any]
    """Keyword arguments that select the isolated store (path, dsn + schema, url + prefix, store)."""
    opened: list[Any] = field(default_factory=list)

    def session(self, session_id: str, **kw: Any) -> Any:
        """A new session object on this backend's store."""
        if self.kind == "memory":
            s: Any = MemorySession(session_id, **self.options, **kw)
        elif self.kind == "sqlite":
            s = SQLiteSession(session_id, **self.options, **kw)
        elif self.kind == "postgres":
            from agentkit.sessions import PostgresSession

            s = PostgresSession(session_id, **self.options, **kw)
        else:
            from agentkit.sessions import RedisSession

            s = RedisSession(session_id, **self.options, **kw)
        self.opened.append(s)
        return s

    async def corrupt(self, session_id: str, raw: str) -> None:
        """Overwrite the stored form of the thread's first item with ``raw``, behind the API."""
        if self.kind == "sqlite":
            import sqlite3

            with sqlite3.connect(self.options["path"]) as conn:
                conn.execute(
                    "UPDATE agentkit_items SET item = ? WHERE id = "
                    "(SELECT min(id) FROM agentkit_items WHERE session_id = ?)",
                    (raw, session_id),
                )
            conn.close()
        elif self.kind == "postgres":
            import psycopg

            schema = self.options["schema"]
            async with await psycopg.AsyncConnection.connect(POSTGRES_DSN, autocommit=True) as conn:
                await conn.execute(
                    f'UPDATE "{schema}".items SET item = %s WHERE session_id = %s AND seq = 1',
                    (raw, session_id),
                )
        elif self.kind == "redis":
            import redis.asyncio

            client = redis.asyncio.Redis.from_url(REDIS_URL)
            await client.lset(f"{self.options['prefix']}:items:{session_id}", 0, raw)
            await client.aclose()
        else:
            raise NotImplementedError("a MemorySession holds objects, not rows")

    async def set_version(self, version: str) -> None:
        """Overwrite the stored schema version, behind the API."""
        if self.kind == "sqlite":
            import sqlite3

            with sqlite3.connect(self.options["path"]) as conn:
                conn.execute("UPDATE agentkit_meta SET value = ? WHERE key = 'schema_version'", (version,))
            conn.close()
        elif self.kind == "postgres":
            import psycopg

            schema = self.options["schema"]
            async with await psycopg.AsyncConnection.connect(POSTGRES_DSN, autocommit=True) as conn:
                await conn.execute(
                    f"UPDATE \"{schema}\".meta SET value = %s WHERE key = 'schema_version'", (version,)
                )
        elif self.kind == "redis":
            import redis.asyncio

            client = redis.asyncio.Redis.from_url(REDIS_URL)
            await client.set(f"{self.options['prefix']}:schema", version)
            await client.aclose()
        else:
            raise NotImplementedError("a MemorySession has no stored schema")

    async def close(self) -> None:
        for s in self.opened:
            aclose = getattr(s, "aclose", None)
            if aclose is not None:
                await aclose()
        self.opened.clear()


async def drop_store(kind: str, options: dict[str, Any]) -> None:
    if kind == "postgres":
        import psycopg

        async with await psycopg.AsyncConnection.connect(POSTGRES_DSN, autocommit=True) as conn:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{options["schema"]}" CASCADE')
    elif kind == "redis":
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=f"{options['prefix']}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def backend_options(kind: str, tmp_path: Path) -> dict[str, Any]:
    """Options that give ``kind`` a store of its own."""
    unique = f"t_{uuid.uuid4().hex[:12]}"
    if kind == "memory":
        return {"store": MemoryStore()}
    if kind == "sqlite":
        return {"path": str(tmp_path / "sessions.sqlite3")}
    require_server(kind)
    if kind == "postgres":
        return {"dsn": POSTGRES_DSN, "schema": unique}
    return {"url": REDIS_URL, "prefix": unique}


def assert_ordered_conversation(items: list[dict[str, object]], *, workers: int, turns: int) -> None:
    """Every turn is a user message directly followed by its reply, and saw the whole history before it."""
    assert len(items) == 2 * workers * turns
    assert [m["n"] for m in items] == list(range(len(items)))
    seen: dict[str, int] = {}
    for user, assistant in zip(items[::2], items[1::2], strict=True):
        assert user["role"] == "user" and assistant["role"] == "assistant"
        assert assistant["content"] == f"re {user['content']}"
        worker, turn = str(user["content"]).split()
        assert int(turn[1:]) == seen.get(worker, -1) + 1
        seen[worker] = int(turn[1:])
    assert len(seen) == workers

"""What only SQLite has to show: WAL + FULL sync, no "database is locked", process-wide locks."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sessions_workers
from sessions_fixtures import assert_ordered_conversation

from agentkit.exceptions import SessionBusyError, SessionCorruptError, SessionSchemaError
from agentkit.sessions import SQLiteSession

HERE = Path(__file__).parent


async def test_default_file_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    s = SQLiteSession("user-42")
    await s.append([{"role": "user", "content": "hi"}])
    assert s.path == str(tmp_path / "agentkit_sessions.sqlite3")
    assert (tmp_path / "agentkit_sessions.sqlite3").exists()


async def test_file_is_wal_with_full_sync(tmp_path: Path) -> None:
    s = SQLiteSession("user-42", tmp_path / "s.sqlite3")
    await s.append([{"role": "user", "content": "hi"}])
    conn = sqlite3.connect(tmp_path / "s.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    assert s._store is not None  # the one private peek: synchronous is per connection
    assert s._store.call(lambda c: c.execute("PRAGMA synchronous").fetchone()) == (2,)  # FULL


async def test_200_concurrent_runs_on_distinct_threads(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"

    async def run(i: int) -> None:
        s = SQLiteSession(f"user-{i}", path)
        async with s.lock():
            for turn in range(3):
                history = await s.load()
                assert len(history) == turn * 3
                await s.append([{"role": "user", "content": f"{i}/{turn}"}])
                await s.append([{"role": "assistant", "content": None, "tool_calls": [{"id": f"c{turn}"}]}])
                await s.append([{"role": "tool", "tool_call_id": f"c{turn}", "content": "ok"}])

    await asyncio.gather(*(run(i) for i in range(200)))
    sessions = await SQLiteSession("any", path).list_sessions()
    assert len(sessions) == 200
    for i in (0, 99, 199):
        assert len(await SQLiteSession(f"user-{i}", path).load()) == 9


def test_processes_writing_one_file_never_see_database_is_locked(tmp_path: Path) -> None:
    options = {"path": str(tmp_path / "s.sqlite3")}
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=sessions_workers.append_many, args=("sqlite", options, f"p{p}", 50, 4))
        for p in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    sessions = asyncio.run(SQLiteSession("any", options["path"]).list_sessions())
    assert len(sessions) == 200


def test_two_processes_on_one_thread_are_serialized(tmp_path: Path) -> None:
    options = {"path": str(tmp_path / "s.sqlite3")}
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=sessions_workers.converse, args=("sqlite", options, "shared", w, 15))
        for w in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert_ordered_conversation(
        asyncio.run(SQLiteSession("shared", options["path"]).load()), workers=2, turns=15
    )


async def test_lock_is_held_across_processes_and_freed_by_sigkill(tmp_path: Path) -> None:
    path, ready = str(tmp_path / "s.sqlite3"), tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, str(HERE / "sessions_workers.py"), path, "shared", str(ready)])
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert holder.poll() is None and time.monotonic() < deadline
            await asyncio.sleep(0.02)
        with pytest.raises(SessionBusyError):
            async with SQLiteSession("shared", path).lock():
                pass
        async with SQLiteSession("another", path).lock():
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        async with SQLiteSession("shared", path, lock_timeout=5).lock():
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


async def test_damaged_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SessionCorruptError, match=r"s\.sqlite3"):
        await SQLiteSession("user-1", path).load()


async def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE agentkit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO agentkit_meta VALUES ('schema_version', 'banana')")
    conn.commit()
    conn.close()
    with pytest.raises(SessionSchemaError, match="banana"):
        await SQLiteSession("user-1", path).append([{"role": "user", "content": "hi"}])


def test_missing_drivers_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentkit.exceptions import ConfigurationError
    from agentkit.sessions import PostgresSession, RedisSession

    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'agentkit-openai\[postgres\]'"):
        PostgresSession("x", "postgresql://localhost/x")
    with pytest.raises(ConfigurationError, match=r"pip install 'agentkit-openai\[redis\]'"):
        RedisSession("x", "redis://localhost")

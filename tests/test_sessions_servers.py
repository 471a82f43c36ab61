"""Postgres and Redis against real servers: worker processes sharing one thread, and the run lock."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sessions_workers
from sessions_fixtures import assert_ordered_conversation, backend_options, drop_store

from agentkit.exceptions import ConfigurationError, SessionBusyError


@pytest.fixture(params=["postgres", "redis"])
async def server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    kind: str = request.param
    options = backend_options(kind, tmp_path)
    yield kind, options
    await drop_store(kind, options)


def _run_workers(target: Any, args: list[tuple[Any, ...]]) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=target, args=a) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0


async def test_two_worker_processes_share_one_thread_in_order(server: tuple[str, dict[str, Any]]) -> None:
    kind, options = server
    _run_workers(sessions_workers.converse, [(kind, options, "shared", w, 15) for w in range(2)])
    session = sessions_workers.make_session(kind, options, "shared")
    try:
        assert_ordered_conversation(await session.load(), workers=2, turns=15)
    finally:
        await session.aclose()


async def test_worker_processes_on_many_threads(server: tuple[str, dict[str, Any]]) -> None:
    kind, options = server
    _run_workers(sessions_workers.append_many, [(kind, options, f"p{p}", 20, 3) for p in range(3)])
    session = sessions_workers.make_session(kind, options, "p0-0")
    try:
        assert len(await session.list_sessions()) == 60
        assert [m["content"] for m in await session.load()] == [
            "0/0",
            "re 0/0",
            "0/1",
            "re 0/1",
            "0/2",
            "re 0/2",
        ]
    finally:
        await session.aclose()


async def test_a_lost_holder_releases_the_postgres_lock(tmp_path: Path) -> None:
    options = backend_options("postgres", tmp_path)
    holder = sessions_workers.make_session("postgres", options, "t")
    other = sessions_workers.make_session("postgres", options, "t")
    try:
        async with holder.lock():
            with pytest.raises(SessionBusyError):
                async with other.lock():
                    pass
            await holder.aclose()  # as when the holder's process dies: the connection goes away
            other.lock_timeout = 5  # the server notices the closed connection a moment later
            async with other.lock():
                pass
    finally:
        await other.aclose()
        await drop_store("postgres", options)


async def test_the_redis_lock_is_renewed_while_held_and_expires_without_its_holder(tmp_path: Path) -> None:
    options = backend_options("redis", tmp_path)
    holder = sessions_workers.make_session("redis", options, "t", lock_lease=0.3)
    other = sessions_workers.make_session("redis", options, "t")
    try:
        async with holder.lock():
            await asyncio.sleep(0.8)  # more than twice the lease: renewal keeps it
            with pytest.raises(SessionBusyError):
                async with other.lock():
                    pass
        async with other.lock():
            pass
        # A holder that stops renewing (a crashed process) loses the lock after its lease.
        await holder._run(lambda c: c.set(f"{options['prefix']}:lock:t", "dead", px=300))
        other.lock_timeout = 5
        async with other.lock():
            pass
    finally:
        await holder.aclose()
        await other.aclose()
        await drop_store("redis", options)


def test_a_bad_postgres_schema_name_is_refused() -> None:
    from agentkit.sessions import PostgresSession

    with pytest.raises(ConfigurationError, match="identifier"):
        PostgresSession("t", "postgresql://x", schema='x"; DROP TABLE y; --')

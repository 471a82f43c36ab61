"""The behaviour every session backend shares, run against Memory, SQLite, Postgres and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sessions_fixtures import BACKENDS, CHAT, RESPONSES, Backend, backend_options, drop_store

import agentkit.sessions
from agentkit.exceptions import SessionBusyError, SessionCorruptError, SessionSchemaError
from agentkit.sessions import AgentDefinition, Session


async def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    kind: str = request.param
    options = backend_options(kind, tmp_path)
    b = Backend(kind, options)
    try:
        yield b
    finally:
        await b.close()
        await drop_store(kind, options)


backend = pytest.fixture(params=BACKENDS)(_backend)
"""Each test using this runs once per backend, on a fresh store."""
stored_backend = pytest.fixture(params=[k for k in BACKENDS if k != "memory"])(_backend)
"""The backends that store rows and a schema version (not ``MemorySession``)."""


def test_public_names() -> None:
    assert agentkit.sessions.__all__ == [
        "AgentDefinition",
        "DefinitionStore",
        "MemorySession",
        "MemoryStore",
        "PostgresSession",
        "RedisSession",
        "SQLiteSession",
        "Session",
        "ToolRegistry",
    ]
    for name in agentkit.sessions.__all__:
        assert getattr(agentkit.sessions, name) is not None


async def test_new_thread_is_empty(backend: Backend) -> None:
    s = backend.session("user-1")
    assert isinstance(s, Session)
    assert await s.load() == []
    assert await s.list_sessions() == []


@pytest.mark.parametrize("items", [CHAT, RESPONSES], ids=["chat", "responses"])
async def test_items_round_trip_in_order(backend: Backend, items: list[dict[str, object]]) -> None:
    s = backend.session("user-1")
    await s.append(items[:1])
    await s.append(items[1:3])
    await s.append([])
    await s.append(items[3:])
    assert await s.load() == items
    # A new object on the same store sees the same thread: it is persisted, not cached.
    assert await backend.session("user-1").load() == items


async def test_threads_are_separate(backend: Backend) -> None:
    a, b = backend.session("b-thread"), backend.session("a-thread")
    await a.append([{"role": "user", "content": "for a"}])
    await b.append([{"role": "user", "content": "for b"}])
    assert await a.load() == [{"role": "user", "content": "for a"}]
    assert await b.load() == [{"role": "user", "content": "for b"}]
    assert await a.list_sessions() == ["a-thread", "b-thread"]


async def test_clear_deletes_one_thread(backend: Backend) -> None:
    a, b = backend.session("a"), backend.session("b")
    await a.append(CHAT)
    await b.append(CHAT)
    await a.clear()
    assert await a.load() == []
    assert await b.load() == CHAT
    assert await a.list_sessions() == ["b"]
    await a.append(CHAT[:1])
    assert await a.load() == CHAT[:1]


async def test_append_is_all_or_nothing(backend: Backend) -> None:
    s = backend.session("user-1")
    await s.append(CHAT[:1])
    with pytest.raises(TypeError):
        await s.append([{"role": "user", "content": "ok"}, {"role": "user", "content": object()}])
    with pytest.raises(TypeError):
        await s.append(["not a dict"])  # type: ignore[list-item]
    assert await s.load() == CHAT[:1]


async def test_concurrent_appends_on_distinct_threads(backend: Backend) -> None:
    sessions = [backend.session(f"user-{i}") for i in range(30)]

    async def converse(i: int) -> None:
        for turn in range(5):
            await sessions[i].append([{"role": "user", "content": f"{i}/{turn}"}])
            await sessions[i].append([{"role": "assistant", "content": f"re {i}/{turn}"}])

    await asyncio.gather(*(converse(i) for i in range(30)))
    for i, s in enumerate(sessions):
        contents = [m["content"] for m in await s.load()]
        assert contents == [x for t in range(5) for x in (f"{i}/{t}", f"re {i}/{t}")]


async def test_lock_is_exclusive_per_thread(backend: Backend) -> None:
    first, second, other = backend.session("t"), backend.session("t"), backend.session("u")
    async with first.lock():
        with pytest.raises(SessionBusyError, match="'t'"):
            async with second.lock():
                pass
        async with other.lock():  # another thread is not affected
            pass
    async with second.lock():  # released on exit
        pass


async def test_one_session_object_cannot_be_locked_twice_at_once(backend: Backend) -> None:
    session = backend.session("same-object")
    holders = 0
    busy = 0

    async def run() -> None:
        nonlocal holders, busy
        try:
            async with session.lock():
                holders += 1
                await asyncio.sleep(0.05)
        except SessionBusyError:
            busy += 1

    await asyncio.gather(run(), run())
    assert (holders, busy) == (1, 1)


async def test_lock_is_released_when_the_run_fails(backend: Backend) -> None:
    s = backend.session("t")
    with pytest.raises(RuntimeError):
        async with s.lock():
            raise RuntimeError("run failed")
    async with backend.session("t").lock():
        pass


async def test_lock_timeout_serializes_runs(backend: Backend) -> None:
    order: list[str] = []
    a_holds = asyncio.Event()

    async def run(name: str, after: asyncio.Event | None) -> None:
        # b asks only once a holds the lock, so the order does not depend on timing.
        if after is not None:
            await after.wait()
        async with backend.session("t", lock_timeout=10).lock():
            order.append(f"{name} start")
            if after is None:
                a_holds.set()
            await asyncio.sleep(0.05)
            order.append(f"{name} end")

    await asyncio.gather(run("a", None), run("b", a_holds))
    assert order == ["a start", "a end", "b start", "b end"]


async def test_corrupt_item_is_an_error_not_skipped(stored_backend: Backend) -> None:
    backend = stored_backend
    s = backend.session("user-1")
    await s.append(CHAT)
    await backend.corrupt("user-1", '{"role": "user", "content": "trunc')
    with pytest.raises(SessionCorruptError, match="user-1"):
        await backend.session("user-1").load()
    await backend.corrupt("user-1", "[1, 2]")
    with pytest.raises(SessionCorruptError, match="not an object"):
        await backend.session("user-1").load()


async def test_future_schema_version_is_refused(stored_backend: Backend) -> None:
    backend = stored_backend
    await backend.session("user-1").append(CHAT)
    await backend.close()
    await backend.set_version("99")
    with pytest.raises(SessionSchemaError, match="99"):
        await backend.session("user-1").load()


async def test_definitions_round_trip(backend: Backend) -> None:
    s = backend.session("any")
    d = AgentDefinition(
        name="support",
        model="gpt-4o-mini",
        instructions="Be brief.",
        model_settings={"temperature": 0, "top_p": 0.5},
        tools=("weather", "book_table"),
    )
    await s.save_definition(d)
    await s.save_definition(AgentDefinition(name="other", model="gpt-4o"))
    assert await backend.session("x").load_definition("support") == d
    assert await s.list_definitions() == ["other", "support"]
    changed = AgentDefinition(name="support", model="gpt-4.1", tools=("weather",))
    await s.save_definition(changed)
    assert await s.load_definition("support") == changed
    await s.delete_definition("support")
    with pytest.raises(KeyError):
        await s.load_definition("support")
    assert await s.list_definitions() == ["other"]

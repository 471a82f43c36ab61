"""Durable runs that continue a thread: the same PostgresSession a normal run uses, one run of a
thread at a time, and a thread that agrees with DBOS's record after a crash."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import psycopg
import pytest

from agentkit._cli import main
from agentkit.durable import enqueue, result
from agentkit.sessions import PostgresSession
from tests.durable_support import AGENT, Workers, effects, wait_for

pytest_plugins = ["tests.durable_fixtures"]

INTERRUPTED = "was interrupted (the process stopped while it ran)"


def thread(store: str, session_id: str) -> list[dict[str, Any]]:
    async def load() -> list[dict[str, Any]]:
        async with PostgresSession(session_id, store) as session:
            return await session.load()

    return asyncio.run(load())


def i1_holds(items: list[dict[str, Any]]) -> bool:
    calls = [c["id"] for m in items if m.get("role") == "assistant" for c in m.get("tool_calls") or ()]
    results = Counter(m["tool_call_id"] for m in items if m.get("role") == "tool")
    return all(results[c] == 1 for c in calls) and set(results) <= set(calls)


def roles(items: list[dict[str, Any]]) -> list[str]:
    return [m["role"] + ("+calls" if m.get("tool_calls") else "") for m in items]


def test_durable_runs_continue_a_thread_one_at_a_time(workers: Workers, store: str) -> None:
    workers.start()
    workers.start()
    first = enqueue(store, AGENT, "turns=1 calls=2 latency=200 first", session_id="thread-a")
    second = enqueue(store, AGENT, "second: what did you find?", session_id="thread-a")
    assert result(store, first, timeout=30).output == "FINAL results=2"
    # The second run read the first one's history (the fake model counts the tool results it sees).
    assert result(store, second, timeout=30).output == "FINAL results=2"
    items = thread(store, "thread-a")
    # Two runs, never interleaved: each starts after the other's final answer.
    assert roles(items) == ["user", "assistant+calls", "tool", "tool", "assistant", "user", "assistant"]
    assert items[5]["content"] == "second: what did you find?"
    assert i1_holds(items)


def test_a_thread_agrees_with_the_record_after_a_crash_mid_tool(workers: Workers, store: str) -> None:
    doomed = workers.start(tool_seconds=30)
    run_id = enqueue(store, AGENT, "turns=2 calls=2 latency=5", session_id="thread-b")

    def started() -> int:
        with psycopg.connect(store) as conn:
            row = conn.execute("SELECT count(*) FROM effects WHERE run_id = %s", (run_id,)).fetchone()
        return int(row[0]) if row else 0

    wait_for(lambda: started() == 2, 30, "both calls to start")
    workers.kill(doomed)
    workers.start()
    info = result(store, run_id, timeout=30)
    assert (info.status, info.output) == ("SUCCESS", "FINAL results=2")
    items = thread(store, "thread-b")
    # Each item once, in the run's order (tool results may come in completion order).
    assert roles(items) == roles(info.messages)
    assert sorted(map(str, items)) == sorted(map(str, info.messages))
    assert i1_holds(items)
    assert sum(INTERRUPTED in str(m.get("content")) for m in items) == 2
    assert sorted(effects(store, [run_id]).values()) == [1, 1, 1, 1]


def test_a_paused_run_holds_no_worker_and_resumes_on_another(
    workers: Workers, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = "tests.durable_agents:approval_agent"
    first = workers.start(agent)
    run_id = enqueue(store, agent, "turns=1 calls=2 latency=5", session_id="thread-c")
    paused = result(store, run_id, timeout=30)
    # The run ended at the calls waiting for approval: its workflow is over, nothing ran.
    assert paused.status == "SUCCESS" and paused.output is None
    assert [p.tool_call_id for p in paused.pending_tool_calls] == ["call_0_0", "call_0_1"]
    assert effects(store, [run_id]) == {}
    assert main(["runs", "show", run_id, "--store", store]) == 0
    assert "waiting (approval): call_0_0 lookup" in capsys.readouterr().out
    workers.kill(first)
    workers.start(agent)
    approve, deny = paused.pending_tool_calls
    decisions = [approve.approve(), deny.deny("not this one")]
    resumed = enqueue(store, agent, None, session_id="thread-c", decisions=decisions)
    info = result(store, resumed, timeout=30)
    assert (info.status, info.output) == ("SUCCESS", "FINAL results=1")
    items = thread(store, "thread-c")
    assert i1_holds(items)
    approved, denied = (m["content"] for m in items if m.get("role") == "tool")
    assert approved == "value-of-k0_0" and "not this one" in denied
    assert len(effects(store, [resumed])) == 1

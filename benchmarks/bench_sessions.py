"""Persistence cost per turn for each session backend, and 200 concurrent runs on one SQLite file.

A turn journals what the loop journals: the user message, the assistant message with its tool
calls, then each tool result as soon as it completes (here 2 parallel calls: 4 appends). The
cost is measured two ways:

- ``raw``: those appends alone, against the same loop with no session (which costs ~0);
- ``run``: one ``Agent.run(..., session=...)`` against the scripted model (a tool round with 2
  parallel calls, then the answer: 5 appends, a load and the lock), against the same run with
  ``messages=`` and no session, alternating conversations of 5 runs so both see equal history.

Postgres and Redis are measured when reachable (``bash .ci/services.sh`` starts them; override
with ``AGENTKIT_TEST_POSTGRES_DSN`` / ``AGENTKIT_TEST_REDIS_URL``).

    python benchmarks/bench_sessions.py            # about 35 s
    python benchmarks/bench_sessions.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from agentkit.sessions import MemorySession, SQLiteSession

POSTGRES_DSN = os.environ.get("AGENTKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:25329/postgres")
REDIS_URL = os.environ.get("AGENTKIT_TEST_REDIS_URL", "redis://127.0.0.1:63799/0")
TARGET_MS = 2.0
CONVERSATION_TURNS = 5


def turn_items(turn: int) -> list[list[dict[str, Any]]]:
    """The appends of one turn, in the order the loop makes them."""
    calls = [
        {
            "id": f"call_{turn}_{i}",
            "type": "function",
            "function": {"name": "lookup", "arguments": f'{{"k":{i}}}'},
        }
        for i in range(2)
    ]
    return [
        [{"role": "user", "content": f"Question number {turn}: what is in the two records?"}],
        [{"role": "assistant", "content": None, "tool_calls": calls}],
        [{"role": "tool", "tool_call_id": calls[1]["id"], "content": "record 1: " + "x" * 200}],
        [{"role": "tool", "tool_call_id": calls[0]["id"], "content": "record 0: " + "y" * 200}],
    ]


async def make_sessions(tmp: str) -> dict[str, Callable[[str], Any]]:
    """Session factories for every backend that can be reached, each on a fresh store."""
    unique = f"bench_{uuid.uuid4().hex[:8]}"
    factories: dict[str, Callable[[str], Any]] = {
        "memory": lambda sid: MemorySession(sid),
        "sqlite": lambda sid: SQLiteSession(sid, os.path.join(tmp, "bench.sqlite3")),
    }
    try:
        from agentkit.sessions import PostgresSession

        probe = PostgresSession("probe", POSTGRES_DSN, schema=unique)
        await probe.list_sessions()
        await probe.aclose()
        factories["postgres"] = lambda sid: PostgresSession(sid, POSTGRES_DSN, schema=unique)
    except Exception as exc:
        print(f"postgres: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
    try:
        from agentkit.sessions import RedisSession

        probe = RedisSession("probe", REDIS_URL, prefix=unique)
        await probe.list_sessions()
        await probe.aclose()
        factories["redis"] = lambda sid: RedisSession(sid, REDIS_URL, prefix=unique)
    except Exception as exc:
        print(f"redis: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
    return factories


async def close(session: Any) -> None:
    aclose = getattr(session, "aclose", None)
    if aclose is not None:
        await aclose()


async def raw_per_turn_ms(factory: Callable[[str], Any], turns: int) -> float:
    """Median milliseconds for one turn's appends, over ``turns`` turns of one thread."""
    session = factory(f"raw-{uuid.uuid4().hex[:8]}")
    try:
        for t in range(5):  # warm up: connection, schema check
            for items in turn_items(t):
                await session.append(items)
        samples = []
        for t in range(turns):
            start = time.perf_counter()
            for items in turn_items(t):
                await session.append(items)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples) * 1000
    finally:
        await close(session)


async def agent_run_ms(factory: Callable[[str], Any], runs: int) -> tuple[float, float] | None:
    """Median milliseconds of one ``agent.run`` (2 parallel tool calls, then an answer).

    Returns:
        ``(without a session, with one)``, or None when the agent is not available.
    """
    try:
        from agentkit import Agent, tool
        from agentkit.testing import ScriptedModel, reply, tool_call
    except ImportError:
        return None

    @tool
    def lookup(k: int) -> str:
        """Look a record up.

        Args:
            k: The record number.
        """
        return f"record {k}: " + "x" * 200

    def script(request: Any) -> Any:
        last = request["messages"][-1]
        if last["role"] == "user":
            return reply(tool_calls=[tool_call("lookup", {"k": 0}), tool_call("lookup", {"k": 1})])
        return reply("Both records hold x.")

    model = ScriptedModel(script)
    agent = Agent("gpt-4o-mini", tools=[lookup], client=model.client())
    samples: dict[bool, list[float]] = {False: [], True: []}
    # Conversations of CONVERSATION_TURNS runs, alternating without and with a session, so that
    # history (and the cost of building each request) and machine noise are the same for both.
    for conversation in range(runs // CONVERSATION_TURNS + 1):
        for with_session in (False, True):
            session = factory(f"agent-{uuid.uuid4().hex[:8]}") if with_session else None
            history: list[dict[str, Any]] | None = None
            try:
                for turn in range(CONVERSATION_TURNS):
                    start = time.perf_counter()
                    if session is None:
                        history = (await agent.run(f"Question {turn}", messages=history)).messages
                    else:
                        await agent.run(f"Question {turn}", session=session)
                    if conversation > 0:  # the first conversation warms up
                        samples[with_session].append(time.perf_counter() - start)
                    # Untimed: let the event loop finalize the run's generator, which releases
                    # the thread (see test_the_thread_is_unlocked_when_run_returns).
                    await _settle(session)
            finally:
                if session is not None:
                    await close(session)
    return statistics.median(samples[False]) * 1000, statistics.median(samples[True]) * 1000


async def _settle(session: Any) -> None:
    if session is None:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return
    session.lock_timeout = 5.0
    async with session.lock():
        pass


async def concurrent_sqlite(tmp: str, runs: int) -> tuple[int, float, int]:
    """``runs`` concurrent 3-turn conversations on distinct threads of one file: (errors, seconds, items)."""
    path = os.path.join(tmp, "concurrent.sqlite3")
    errors = 0

    async def one(i: int) -> None:
        nonlocal errors
        try:
            session = SQLiteSession(f"user-{i}", path)
            async with session.lock():
                await session.load()
                for t in range(3):
                    for items in turn_items(t):
                        await session.append(items)
        except Exception as exc:
            errors += 1
            print(f"run {i}: {type(exc).__name__}: {exc}", file=sys.stderr)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(runs)))
    elapsed = time.perf_counter() - start
    stored = 0
    for i in range(runs):
        stored += len(await SQLiteSession(f"user-{i}", path).load())
    return errors, elapsed, stored


async def main(quick: bool) -> int:
    turns = 50 if quick else 300
    runs = 50 if quick else 300
    with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:  # the disk under test, not a tmpfs
        factories = await make_sessions(tmp)
        print(f"persistence cost per turn, median (a turn = 4 appends: {turns} raw turns; {runs} agent runs)")
        header = ("backend", "raw ms/turn", "run, none", "run, session", "added ms", "ratio")
        print("{:10} {:>12} {:>10} {:>13} {:>9} {:>6}".format(*header))
        ok = True
        agent_available = True
        for name, factory in factories.items():
            raw = await raw_per_turn_ms(factory, turns)
            pair = await agent_run_ms(factory, runs) if agent_available else None
            if pair is None:
                agent_available = False
                print(f"{name:10} {raw:12.3f}")
            else:
                none, with_session = pair
                added = with_session - none
                ratio = with_session / none
                print(f"{name:10} {raw:12.3f} {none:10.3f} {with_session:13.3f} {added:9.3f} {ratio:6.2f}")
            if name == "sqlite" and raw > TARGET_MS:
                ok = False
        if not agent_available:
            print("(agentkit.Agent or the scripted model is not available yet: raw appends only)")
        errors, elapsed, stored = await concurrent_sqlite(tmp, 200)
        print(
            f"\n200 concurrent runs on distinct threads of one SQLite file: {errors} errors, "
            f"{stored} items stored (expected {200 * 12}), {elapsed:.2f} s"
        )
        ok = ok and errors == 0 and stored == 200 * 12
    print(f"\nSQLite target (<= {TARGET_MS} ms per turn, 0 errors): {'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer turns")
    return asyncio.run(main(parser.parse_args(argv).quick))


if __name__ == "__main__":
    sys.exit(run())

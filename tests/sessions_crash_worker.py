"""The crash campaign: run a multi-turn agent on a SQLiteSession, SIGKILL it, resume, repeat.

A parent process (agentkit imported once, so a life starts in milliseconds) forks one child per
"life". A child runs the conversation from wherever the thread stands: the next user message if
the last turn was answered, else ``agent.run(None, session=...)`` to resume. Each life dies by
SIGKILL, either at its N-th journal point (a session write, a model request, a tool's start or
effect: self-inflicted, to cover every point) or after a random delay (sent by the parent:
arbitrary points, mid-commit included). After every kill the parent checks the database's integrity.

Side effects are counted in files that the children append to with fsync:

- ``effects``: one line per tool execution (``tool session call_id idempotency_key``);
- ``seen``: each user message the scripted model received; ``acks``: each turn ``run`` returned;
- ``unjournaled``: a request whose user message, or a tool run whose call, was not yet stored;
- ``violations``: requests in which a tool call lacks exactly one result (or a result its call).

    python tests/sessions_crash_worker.py --kills 200 [--seed 1] [--dir DIR]

The last line printed is a JSON summary; every count listed in ``test_crash.MUST_BE_ZERO`` must
be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from agentkit import Agent, RunContext, tool
from agentkit.sessions import SQLiteSession
from agentkit.testing import ScriptedModel, reply, tool_call

TURNS = 3
"""User messages per conversation; each turn is 2 rounds of parallel tool calls, then an answer."""


def _log(directory: str, name: str, line: str) -> None:
    fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _lines(directory: str, name: str) -> list[list[str]]:
    try:
        with open(os.path.join(directory, name)) as f:
            return [line.split() for line in f if line.strip()]
    except FileNotFoundError:
        return []


class _Killer:
    """Counts journal points and SIGKILLs this process at the chosen one."""

    def __init__(self, kill_at: int | None) -> None:
        self.kill_at = kill_at
        self.points = 0

    def point(self) -> None:
        self.points += 1
        if self.points == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def request_violations(messages: Sequence[dict[str, Any]]) -> list[str]:
    """Every way ``messages`` breaks "each tool call is followed by exactly one result"."""
    problems = []
    i = 0
    while i < len(messages):
        m = messages[i]
        if m.get("role") == "tool":
            problems.append(f"result {m.get('tool_call_id')} without a call")
            i += 1
            continue
        calls = [c["id"] for c in m.get("tool_calls") or []]
        i += 1
        results = []
        while i < len(messages) and messages[i].get("role") == "tool":
            results.append(messages[i].get("tool_call_id"))
            i += 1
        if sorted(results) != sorted(calls):
            problems.append(f"calls {calls} answered by {results}")
    return problems


class _Life:
    """What the module-level tools need to know about the current life."""

    db = ""
    directory = ""
    session_id = ""
    killer = _Killer(None)


def _stored_now() -> list[dict[str, Any]]:
    """What the thread holds at this instant, read behind the session's back."""
    return _thread(_Life.db, _Life.session_id)


def _check_call_journaled(call_id: str) -> None:
    """A tool may only run once the assistant message carrying its call is stored."""
    if not any(call_id in [c["id"] for c in m.get("tool_calls") or []] for m in _stored_now()):
        _log(_Life.directory, "unjournaled", f"{_Life.session_id} call {call_id}")


@tool(idempotent=True)
async def lookup(ctx: RunContext[None], k: int, i: int) -> str:
    """Look a record up (safe to repeat).

    Args:
        k: The turn.
        i: The record.
    """
    _Life.killer.point()
    _check_call_journaled(ctx.tool_call_id)
    _log(_Life.directory, "effects", f"lookup {_Life.session_id} {ctx.tool_call_id} {ctx.idempotency_key}")
    await asyncio.sleep(random.random() / 1000)
    _Life.killer.point()
    return f"record {k}.{i}"


@tool
async def charge(ctx: RunContext[None], k: int, i: int) -> str:
    """Charge the customer (must never run twice).

    Args:
        k: The turn.
        i: The charge.
    """
    _Life.killer.point()
    _check_call_journaled(ctx.tool_call_id)
    _log(_Life.directory, "effects", f"charge {_Life.session_id} {ctx.tool_call_id} {ctx.idempotency_key}")
    await asyncio.sleep(random.random() / 1000)
    _Life.killer.point()
    return f"charged {k}.{i}"


def life(db: str, directory: str, session_id: str, kill_at: int | None) -> int:
    """One process life: continue the conversation until it is complete (or this process dies)."""
    killer = _Life.killer = _Killer(kill_at)
    _Life.db, _Life.directory, _Life.session_id = db, directory, session_id

    def script(request: Any) -> Any:
        killer.point()
        messages = request["messages"]
        for problem in request_violations(messages):
            _log(directory, "violations", f"{session_id} {problem.replace(' ', '_')}")
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        k = int(messages[last_user]["content"].split("-")[1])
        _log(directory, "seen", f"{session_id} {k}")
        if not any(m.get("role") == "user" and m.get("content") == f"msg-{k}" for m in _stored_now()):
            _log(directory, "unjournaled", f"{session_id} user msg-{k}")
        rounds = sum(1 for m in messages[last_user:] if m["role"] == "assistant")
        if rounds == 0:
            calls = [("lookup", 0), ("lookup", 1), ("charge", 0)]
        elif rounds == 1:
            calls = [("charge", 1), ("lookup", 2)]
        else:
            return reply(f"answer-{k}")
        return reply(
            tool_calls=[
                tool_call(name, {"k": k, "i": i}, id=f"c{k}_{rounds}_{n}")
                for n, (name, i) in enumerate(calls)
            ]
        )

    class CountingSession(SQLiteSession):
        async def append(self, items: Sequence[dict[str, Any]]) -> None:
            killer.point()
            await super().append(items)
            killer.point()

    async def main() -> int:
        model = ScriptedModel(script)
        agent = Agent("gpt-4o-mini", tools=[lookup, charge], client=model.client())
        session = CountingSession(session_id, db)
        while True:
            items = await session.load()
            users = [i for i, m in enumerate(items) if m.get("role") == "user"]
            if not users:
                k, text = 0, "msg-0"
            else:
                k = int(items[users[-1]]["content"].split("-")[1])
                answered = any(m.get("content") == f"answer-{k}" for m in items[users[-1] :])
                if answered:
                    k += 1
                    if k == TURNS:
                        return 0
                    text = f"msg-{k}"
                else:
                    text = None  # resume the interrupted turn
            result = await agent.run(text, session=session)
            for call in result.interrupted_tool_calls:
                _log(directory, "interrupted", f"{session_id} {call.tool_call_id} {call.name}")
            _log(directory, "acks", f"{session_id} {k} {result.output}")

    try:
        return asyncio.run(main())
    except BaseException:
        _log(directory, "errors", json.dumps(traceback.format_exc()))
        return 3


def _integrity(db: str) -> bool:
    if not os.path.exists(db):
        return True
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def _thread(db: str, session_id: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT item FROM agentkit_items WHERE session_id = ? ORDER BY id", (session_id,)
        ).fetchall()
    finally:
        conn.close()
    return [json.loads(r[0]) for r in rows]


def campaign(directory: str, kills: int, seed: int) -> dict[str, Any]:
    """Kill lives until ``kills`` SIGKILLs happened, finishing each conversation; return the figures."""
    rng = random.Random(seed)
    db = os.path.join(directory, "crash.sqlite3")
    # One untimed conversation first, so that the SDK's lazy set-up is inherited by every child.
    warmup = os.path.join(directory, "warmup")
    os.makedirs(warmup, exist_ok=True)
    assert life(os.path.join(warmup, "warmup.sqlite3"), warmup, "warmup", None) == 0
    stats: Counter[str] = Counter()
    conversations: list[str] = []
    killed_at_points: Counter[int] = Counter()
    while stats["kills"] < kills:
        session_id = f"conv-{len(conversations)}"
        conversations.append(session_id)
        while True:
            external = rng.random() < 0.5
            kill_at = None if external or stats["kills"] >= kills else rng.randint(1, 45)
            delay = rng.uniform(0, 0.03) if external and stats["kills"] < kills else None
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the child: never return into the campaign
                code = 4
                try:
                    random.seed(rng.random())
                    code = life(db, directory, session_id, kill_at)
                finally:
                    os._exit(code)
            stats["lives"] += 1
            if delay is not None:
                time.sleep(delay)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                stats["kills"] += 1
                stats["external_kills" if delay is not None else "point_kills"] += 1
                if kill_at is not None:
                    killed_at_points[kill_at] += 1
                if not _integrity(db):
                    stats["corrupt_databases"] += 1
                continue
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
            if code != 0:
                stats["child_errors"] += 1
                if stats["child_errors"] > 5:
                    raise RuntimeError(f"children keep failing; see {directory}/errors")
                continue
            break
    return _figures(db, directory, conversations, stats)


def _figures(db: str, directory: str, conversations: list[str], stats: Counter[str]) -> dict[str, Any]:
    acks = {(s, int(k)) for s, k, *_ in _lines(directory, "acks")}
    seen = {(s, int(k)) for s, k in _lines(directory, "seen")}
    lost_acked = lost_users = duplicated_users = incomplete = 0
    for session_id in conversations:
        items = _thread(db, session_id)
        users = Counter(m["content"] for m in items if m.get("role") == "user")
        answers = {m.get("content") for m in items if m.get("role") == "assistant"}
        for k in range(TURNS):
            if users[f"msg-{k}"] > 1:
                duplicated_users += 1
            if f"answer-{k}" not in answers:
                incomplete += 1
        lost_acked += sum(1 for s, k in acks if s == session_id and f"answer-{k}" not in answers)
        lost_users += sum(1 for s, k in seen if s == session_id and users[f"msg-{k}"] == 0)
    unjournaled = _lines(directory, "unjournaled")
    # A user message the model saw before it was stored would be lost by a crash at that moment.
    lost_users += sum(1 for line in unjournaled if line[1] == "user")
    executions: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for name, session_id, call_id, key in _lines(directory, "effects"):
        executions[(name, session_id, call_id)].append(key)
    second_charges = sum(len(keys) - 1 for (name, *_), keys in executions.items() if name == "charge")
    reruns = sum(len(keys) - 1 for (name, *_), keys in executions.items() if name == "lookup")
    unstable_keys = sum(1 for keys in executions.values() if len(set(keys)) > 1)
    return {
        "kills": stats["kills"],
        "point_kills": stats["point_kills"],
        "external_kills": stats["external_kills"],
        "lives": stats["lives"],
        "conversations": len(conversations),
        "acknowledged_turns": len(acks),
        "tool_executions": sum(len(k) for k in executions.values()),
        "idempotent_reruns": reruns,
        "interrupted_calls_reported": len(_lines(directory, "interrupted")),
        "lost_acknowledged_turns": lost_acked,
        "lost_user_messages": lost_users,
        "duplicated_user_messages": duplicated_users,
        "incomplete_conversations": incomplete,
        "corrupt_databases": stats["corrupt_databases"],
        "orphan_tool_calls_sent": len(_lines(directory, "violations")),
        "tools_run_before_their_call_was_stored": sum(1 for line in unjournaled if line[1] == "call"),
        "second_executions_of_non_idempotent_tools": second_charges,
        "unstable_idempotency_keys": unstable_keys,
        "child_errors": stats["child_errors"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", help="where the database and counters go (default: a new temp dir)")
    args = parser.parse_args(argv)
    directory = args.dir or tempfile.mkdtemp(prefix="agentkit-crash-")
    os.makedirs(directory, exist_ok=True)
    # Import before forking, so each life starts in milliseconds.
    import agentkit.sessions
    import agentkit.testing  # noqa: F401

    start = time.monotonic()
    figures = campaign(directory, args.kills, args.seed)
    figures["seconds"] = round(time.monotonic() - start, 1)
    figures["dir"] = directory
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

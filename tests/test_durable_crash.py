"""Crash campaign and failover for durable runs: worker processes are killed with SIGKILL while
they run agents whose parallel tool calls record every execution in a table.

Scale the campaign with AGENTKIT_DURABLE_CAMPAIGN_RUNS / _KILLS (the CI size keeps it under ~60 s).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from typing import Any

from agentkit.durable import enqueue, show
from tests.durable_support import AGENT, Workers, effects, statuses, wait_for

pytest_plugins = ["tests.durable_fixtures"]

RUNS = int(os.environ.get("AGENTKIT_DURABLE_CAMPAIGN_RUNS", "100"))
KILLS = int(os.environ.get("AGENTKIT_DURABLE_CAMPAIGN_KILLS", "20"))
TURNS, CALLS = 3, 3
INTERRUPTED = "was interrupted (the process stopped while it ran)"
FINISHED = {"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"}


def i1_violations(messages: list[dict[str, Any]]) -> int:
    """Tool calls without exactly one result, plus results that answer no call."""
    calls = [c["id"] for m in messages if m.get("role") == "assistant" for c in m.get("tool_calls") or ()]
    results = Counter(m["tool_call_id"] for m in messages if m.get("role") == "tool")
    return sum(1 for c in calls if results[c] != 1) + sum(1 for r in results if r not in calls)


def test_crash_campaign_loses_no_run_turn_or_result_and_repeats_no_tool(workers: Workers, store: str) -> None:
    rng = random.Random(17)
    options: dict[str, Any] = {"tool_seconds": 0.1, "concurrency": 4}
    pool = [workers.start(**options) for _ in range(2)]
    run_ids = [enqueue(store, AGENT, f"turns={TURNS} calls={CALLS} latency=300 run={n}") for n in range(RUNS)]
    started = time.monotonic()
    for _ in range(KILLS):
        time.sleep(rng.uniform(0.2, 0.9))
        victim = rng.randrange(len(pool))
        workers.kill(pool[victim])
        pool[victim] = workers.start(**options)
    wait_for(lambda: all(s in FINISHED for s, _ in statuses(store, run_ids).values()), 120, "every run")
    seconds = time.monotonic() - started

    infos = [show(store, run_id, steps=False) for run_id in run_ids]
    completed = [i for i in infos if i.status == "SUCCESS"]
    executions = effects(store, run_ids)
    tool_turns = [sum(1 for m in i.messages if m.get("tool_calls")) for i in completed]
    results = [m["content"] for i in completed for m in i.messages if m.get("role") == "tool"]
    figures = {
        "runs": RUNS,
        "kills": KILLS,
        "completed runs": len(completed),
        "lost runs": RUNS - len(completed),
        "lost turns": sum(TURNS - n for n in tool_turns) + sum(1 for i in completed if not i.output),
        "second executions of non-idempotent tools": sum(n - 1 for n in executions.values() if n > 1),
        "I1 violations": sum(i1_violations(i.messages) for i in completed),
        "calls closed as interrupted": sum(INTERRUPTED in r for r in results),
        "seconds": round(seconds, 1),
    }
    print("\ndurable crash campaign: " + ", ".join(f"{k}: {v}" for k, v in figures.items()))
    assert [i.error for i in infos if i.status != "SUCCESS"] == []
    assert figures["lost runs"] == figures["lost turns"] == 0
    assert figures["second executions of non-idempotent tools"] == 0
    assert figures["I1 violations"] == 0
    assert tool_turns == [TURNS] * RUNS
    # Every result the model read either came from an execution or says it was interrupted.
    assert len(results) == RUNS * TURNS * CALLS
    assert sum("value-of-" in r for r in results) + figures["calls closed as interrupted"] == len(results)
    assert sum(executions.values()) >= sum("value-of-" in r for r in results)


def test_a_dead_worker_that_never_comes_back_has_its_runs_finished_by_another(
    workers: Workers, store: str
) -> None:
    doomed = workers.start(tool_seconds=1.0, concurrency=3)
    survivor = workers.start(tool_seconds=1.0, concurrency=3)
    run_ids = [enqueue(store, AGENT, f"turns=2 calls=2 latency=50 failover={n}") for n in range(6)]

    def held_by(worker: Any) -> list[str]:
        return [
            r for r, (s, e) in statuses(store, run_ids).items() if s == "PENDING" and e == worker.executor_id
        ]

    wait_for(lambda: len(held_by(doomed)) > 0, 30, "the doomed worker to hold runs")
    orphans = held_by(doomed)
    workers.kill(doomed)
    wait_for(lambda: all(s in FINISHED for s, _ in statuses(store, run_ids).values()), 60, "every run")
    final = statuses(store, run_ids)
    assert {final[r][0] for r in run_ids} == {"SUCCESS"}
    assert {final[r][1] for r in orphans} == {survivor.executor_id}
    assert set(effects(store, run_ids).values()) == {1}

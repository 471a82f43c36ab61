"""Durable runs (agentkit.durable) through the CLI and the public functions, against the real
Postgres and worker processes (``agentkit worker``) that talk to a loopback fake model."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import psycopg
import pytest

from agentkit._cli import main
from agentkit.durable import RunInfo, enqueue, events, result, show
from agentkit.events import FinalResult, ToolCallResult, ToolCallStarted
from tests.durable_support import AGENT, IDEMPOTENT_AGENT, Workers, effects, wait_for

pytest_plugins = ["tests.durable_fixtures"]

INTERRUPTED = "interrupted (the process stopped while it ran); its outcome is unknown"


def tool_results(info: RunInfo) -> dict[str, str]:
    return {m["tool_call_id"]: m["content"] for m in info.messages if m.get("role") == "tool"}


def started(store: str, run_id: str) -> int:
    with psycopg.connect(store) as conn:
        row = conn.execute("SELECT count(*) FROM effects WHERE run_id = %s", (run_id,)).fetchone()
    return int(row[0]) if row else 0


def test_a_run_enqueued_by_the_cli_runs_on_a_worker_and_shows_its_steps(
    workers: Workers, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    workers.start()
    assert main(["runs", "enqueue", AGENT, "turns=2 calls=2 latency=5", "--store", store]) == 0
    run_id = capsys.readouterr().out.strip()
    info = result(store, run_id, timeout=30)
    assert (info.status, info.output) == ("SUCCESS", "FINAL results=4")
    assert main(["runs", "show", run_id, "--store", store, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    names = [s["name"] for s in shown["steps"]]
    assert names == ["model", "tool:lookup", "tool:lookup", "model", "tool:lookup", "tool:lookup", "model"]
    assert set(effects(store, [run_id]).values()) == {1}
    assert main(["runs", "show", run_id, "--store", store]) == 0
    assert "SUCCESS" in capsys.readouterr().out


def test_a_tool_call_in_flight_at_a_crash_is_closed_not_run_again(workers: Workers, store: str) -> None:
    first = workers.start(tool_seconds=30)
    run_id = enqueue(store, AGENT, "turns=2 calls=2 latency=5")
    wait_for(lambda: started(store, run_id) == 2, 30, "both calls to start")
    workers.kill(first)
    workers.start()
    info = result(store, run_id, timeout=30)
    assert info.status == "SUCCESS"
    contents = tool_results(info)
    assert [INTERRUPTED in contents[f"call_0_{i}"] for i in range(2)] == [True, True]
    assert [contents[f"call_1_{i}"] for i in range(2)] == ["value-of-k1_0", "value-of-k1_1"]
    # Each call ran exactly once: the interrupted ones were not run again.
    assert sorted(effects(store, [run_id]).values()) == [1, 1, 1, 1]
    assert info.output == "FINAL results=2"


def test_an_idempotent_tool_in_flight_runs_again_with_the_same_key(workers: Workers, store: str) -> None:
    first = workers.start(IDEMPOTENT_AGENT, tool_seconds=30)
    run_id = enqueue(store, IDEMPOTENT_AGENT, "turns=1 calls=2 latency=5")
    wait_for(lambda: started(store, run_id) == 2, 30, "both calls to start")
    workers.kill(first)
    workers.start(IDEMPOTENT_AGENT)
    info = result(store, run_id, timeout=30)
    assert (info.status, info.output) == ("SUCCESS", "FINAL results=2")
    assert sorted(effects(store, [run_id]).values()) == [2, 2]


def test_finished_tool_calls_are_not_repeated_after_a_crash_mid_model_request(
    workers: Workers, store: str
) -> None:
    first = workers.start()
    run_id = enqueue(store, AGENT, "turns=2 calls=2 latency=1500")
    # The first turn's calls finished and the second model request is in flight.
    wait_for(lambda: len(show(store, run_id).steps) == 3, 30, "the first turn's tool steps")
    time.sleep(0.3)
    workers.kill(first)
    workers.start()
    info = result(store, run_id, timeout=30)
    assert (info.status, info.output) == ("SUCCESS", "FINAL results=4")
    assert sorted(effects(store, [run_id]).values()) == [1, 1, 1, 1]
    assert [s.name for s in show(store, run_id).steps].count("model") == 3


def test_a_run_recorded_by_another_version_of_the_agent_fails_loudly(workers: Workers, store: str) -> None:
    workers.start(AGENTKIT_DURABLE_INSTRUCTIONS="A changed prompt.")
    run_id = enqueue(store, AGENT, "turns=1 calls=1 latency=5")
    info = result(store, run_id, timeout=30)
    assert info.status == "ERROR"
    assert info.error is not None and info.error.startswith("DurableVersionError")
    assert effects(store, [run_id]) == {}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["runs", "show", "no-such-run"], "No durable run 'no-such-run'"),
        (["runs", "enqueue", "tests.durable_agents:missing", "hi"], "is not an agentkit Agent"),
        (["runs", "enqueue", "no_such_module:agent", "hi"], "Cannot import 'no_such_module'"),
    ],
)
def test_bad_runs_arguments_exit_2_with_one_line(
    store: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--store", store]) == 2
    assert message in capsys.readouterr().err


def test_a_store_that_is_not_postgres_or_not_set_up_is_refused(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "show", "x", "--store", "sqlite:///runs.db"]) == 2
    assert "need a Postgres store" in capsys.readouterr().err
    bare = store.rsplit("/", 1)[0] + "/postgres"
    assert main(["runs", "show", "x", "--store", bare]) == 2
    assert "start a worker on it once" in capsys.readouterr().err


def test_a_streamed_run_sends_each_event_once_with_ids_across_a_crash(workers: Workers, store: str) -> None:
    first = workers.start(tool_seconds=30)
    run_id = enqueue(store, AGENT, "turns=2 calls=2 latency=5", stream=True)
    seen: list[tuple[int, Any]] = []
    for event_id, event in events(store, run_id, timeout=30):
        seen.append((event_id, event))
        if isinstance(event, ToolCallStarted) and event.tool_call_id == "call_0_1":
            break
    wait_for(lambda: started(store, run_id) == 2, 30, "both calls to start")
    workers.kill(first)
    workers.start()
    # The consumer reconnects after the last id it handled and gets the rest, once each.
    seen += list(events(store, run_id, after=seen[-1][0], timeout=30))
    assert [i for i, _ in seen] == list(range(len(seen)))
    labels = [(type(e).__name__, getattr(e, "tool_call_id", None)) for _, e in seen]
    once = [label for label in labels if label[0] != "TurnFinished"]
    assert len(set(once)) == len(once)
    assert [label for label in labels if label[0] == "ToolCallResult"] == [
        ("ToolCallResult", f"call_{t}_{i}") for t in range(2) for i in range(2)
    ]
    results = {e.tool_call_id: e.content for _, e in seen if isinstance(e, ToolCallResult)}
    assert INTERRUPTED in results["call_0_0"] and results["call_1_0"] == "value-of-k1_0"
    final = seen[-1][1]
    assert isinstance(final, FinalResult) and final.result.output == "FINAL results=2"
    assert result(store, run_id).output == "FINAL results=2"


def test_a_tool_step_recorded_for_another_call_stops_the_replay(workers: Workers, store: str) -> None:
    first = workers.start(tool_seconds=0.02)
    run_id = enqueue(store, AGENT, "turns=2 calls=2 latency=3000")
    wait_for(lambda: len(show(store, run_id).steps) == 3, 30, "the first turn's tool steps")
    workers.kill(first)
    # Swap the recorded results of the two parallel calls, as a replay in another order would see them.
    with psycopg.connect(store, autocommit=True) as conn:
        conn.execute(
            "UPDATE dbos.operation_outputs o SET output = s.output FROM dbos.operation_outputs s "
            "WHERE o.workflow_uuid = %s AND s.workflow_uuid = o.workflow_uuid "
            "AND o.function_id IN (2, 3) AND s.function_id = 5 - o.function_id",
            (run_id,),
        )
    workers.start()
    info = result(store, run_id, timeout=30)
    assert info.status == "ERROR"
    assert info.error is not None and info.error.startswith("DurableReplayError")
    # Whichever of the two parallel steps is checked first reports the swap.
    assert re.search(r"belongs to tool call 'call_0_(\d)', not 'call_0_(?!\1)\d'", info.error)

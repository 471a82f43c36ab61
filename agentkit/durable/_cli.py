"""``agentkit worker`` and ``agentkit runs``: run a worker; enqueue and inspect durable runs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..exceptions import AgentkitError


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``agentkit worker``'s arguments."""
    parser.add_argument("agents", nargs="+", metavar="module:agent", help="agents this worker runs")
    parser.add_argument("--store", required=True, help="postgresql://... (DBOS's and agentkit's tables)")
    parser.add_argument("--queue", default="agentkit", help="queue to execute (default: agentkit)")
    parser.add_argument("--concurrency", type=int, help="runs at once over the whole pool")
    parser.add_argument("--worker-concurrency", type=int, default=50, help="runs at once here (default 50)")
    parser.add_argument("--rate", metavar="N/SECONDS", help="at most N runs started per SECONDS, pool-wide")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="seconds between heartbeats")
    parser.add_argument("--dead-after", type=float, default=5.0, help="seconds of silence before reaping")


def run_worker(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; exit 2 on a bad store, agent or option."""
    from ._worker import Worker

    try:
        worker = Worker(
            args.store,
            agents=tuple(args.agents),
            queue=args.queue,
            concurrency=args.concurrency,
            worker_concurrency=args.worker_concurrency,
            runs_per_period=_rate(args.rate),
            heartbeat=args.heartbeat,
            dead_after=args.dead_after,
        )
        worker.start()
        print(f"worker {worker.executor_id} on queue {args.queue!r}", flush=True)
        worker.serve()
    except AgentkitError as exc:
        print(f"agentkit worker: {exc}", file=sys.stderr)
        return 2
    return 0


def _rate(text: str | None) -> tuple[int, float] | None:
    if text is None:
        return None
    count, _, seconds = text.partition("/")
    try:
        return int(count), float(seconds or "60")
    except ValueError:
        raise AgentkitError(f"--rate takes N/SECONDS (e.g. 500/60), not {text!r}.") from None


def add_runs_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``agentkit runs enqueue|show``."""
    sub = parser.add_subparsers(dest="action", required=True)
    enqueue = sub.add_parser("enqueue", help="enqueue a run and print its id")
    enqueue.add_argument("agent", metavar="module:agent")
    enqueue.add_argument("input", help="the user's message")
    enqueue.add_argument("--store", required=True)
    enqueue.add_argument("--queue", default="agentkit")
    enqueue.add_argument("--id", dest="run_id", help="a run id of your own (enqueueing it twice is one run)")
    enqueue.add_argument(
        "--session", dest="session_id", help="continue this thread (a PostgresSession in the store)"
    )
    show = sub.add_parser("show", help="print a run's status and steps")
    show.add_argument("run_id")
    show.add_argument("--store", required=True)
    show.add_argument("--json", action="store_true", help="one JSON object instead of text")


def run_runs(args: argparse.Namespace) -> int:
    """Enqueue or show; exit 2 on a bad store, agent or run id."""
    from ._client import enqueue, show

    try:
        if args.action == "enqueue":
            run_id = enqueue(
                args.store,
                args.agent,
                args.input,
                queue=args.queue,
                run_id=args.run_id,
                session_id=args.session_id,
            )
            print(run_id)
            return 0
        info = show(args.store, args.run_id)
    except AgentkitError as exc:
        print(f"agentkit runs: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_plain(info), default=str))
        return 0
    print(f"run {info.run_id}: {info.status} (agent {info.agent}, worker {info.executor_id})")
    for step in info.steps:
        took = "" if step.seconds is None else f" {step.seconds * 1000:.0f} ms"
        print(f"  {step.number:>3} {step.name}{took}{'  ERROR ' + step.error if step.error else ''}")
    for call in info.pending_tool_calls:
        print(f"waiting ({call.kind}): {call.tool_call_id} {call.name}({call.arguments})")
    if info.error:
        print(f"error: {info.error}")
    elif info.status == "SUCCESS":
        print(f"output: {info.output}")
    return 0


def _plain(info: Any) -> dict[str, Any]:
    return {
        "run_id": info.run_id,
        "status": info.status,
        "agent": info.agent,
        "executor_id": info.executor_id,
        "output": info.output,
        "error": info.error,
        "steps": [
            {"number": s.number, "name": s.name, "seconds": s.seconds, "error": s.error} for s in info.steps
        ],
    }

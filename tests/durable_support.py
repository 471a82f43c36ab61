"""Helpers for the durable-run tests: worker processes (``agentkit worker``) and what the tools did."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
AGENT = "tests.durable_agents:agent"
IDEMPOTENT_AGENT = "tests.durable_agents:idempotent_agent"


def _with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


@dataclass
class Workers:
    """Starts and kills worker processes (``agentkit worker``) on one store."""

    store: str
    model_url: str
    logs: Path
    running: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(
        self, *agents: str, tool_seconds: float = 0.02, concurrency: int = 50, **env: str
    ) -> subprocess.Popen[str]:
        """Start a worker and wait until it executes its queue."""
        environment = {
            **os.environ,
            "AGENTKIT_DURABLE_MODEL_URL": self.model_url,
            "AGENTKIT_DURABLE_EFFECTS_DSN": self.store,
            "AGENTKIT_DURABLE_TOOL_SECONDS": str(tool_seconds),
            "PYTHONPATH": str(ROOT),
            **env,
        }
        command = [
            sys.executable, "-m", "agentkit._cli", "worker", *(agents or (AGENT,)), "--store", self.store,
            "--heartbeat", "0.3", "--dead-after", "1.5", "--worker-concurrency", str(concurrency),
        ]  # fmt: skip
        with open(self.logs / f"worker-{len(self.running)}.log", "w") as log:
            process = subprocess.Popen(
                command, env=environment, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT
            )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("worker "):
            process.kill()
            raise AssertionError(f"worker did not start: {line!r}; see {log.name}")
        process.executor_id = line.split()[1]  # type: ignore[attr-defined]
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen[str]) -> None:
        """``kill -9`` a worker."""
        process.send_signal(signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def stop_all(self) -> None:
        for process in self.running:
            self.kill(process)


def effects(store: str, run_ids: list[str]) -> dict[str, int]:
    """Executions of ``lookup`` per idempotency key, for these runs."""
    with psycopg.connect(store) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, count(*) FROM effects WHERE run_id = ANY(%s) GROUP BY 1", (run_ids,)
        ).fetchall()
    return {key: count for key, count in rows}


def wait_for(check: Any, timeout: float, what: str) -> None:
    """Poll ``check()`` until it is true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def statuses(store: str, run_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Each run's DBOS status and executor."""
    with psycopg.connect(store) as conn:
        rows = conn.execute(
            "SELECT workflow_uuid, status, executor_id FROM dbos.workflow_status "
            "WHERE workflow_uuid = ANY(%s)",
            (run_ids,),
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}

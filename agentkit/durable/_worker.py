"""A worker process: executes enqueued durable runs, and reaps the runs of dead workers.

Open-source DBOS recovers a crashed executor's workflows only when a process with the same
executor id starts again. A worker here gets a fresh executor id, writes a heartbeat every
``heartbeat`` seconds, and its reaper hands the pending runs of any worker whose heartbeat is
older than ``dead_after`` seconds back to the queue, where a live worker picks them up (on any
machine). A worker that finds itself reaped (it stalled past ``dead_after``) exits at once, so
that a run is never executed by two workers.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from dbos import DBOS

from ._client import QUEUE, check_store, threads_queue
from ._steps import PROCESS
from ._tables import SCHEMA, ToolCallLog, create_tables
from ._workflow import APP_VERSION, durable_agent

logger = logging.getLogger("agentkit.durable")

_REAPED_EXIT = 70
"""Exit status of a worker that found itself declared dead."""


@dataclass
class Worker:
    """Executes durable runs from one queue; one per process (DBOS is process-wide)."""

    store: str
    """The Postgres URL holding DBOS's tables and agentkit's (``postgresql://...``)."""
    agents: tuple[str, ...] = ()
    """Agent references to import (and check) at start; others are imported on first use."""
    queue: str = QUEUE
    """The queue to execute runs from."""
    concurrency: int | None = None
    """Runs of this queue executing at once over the whole pool (``None``: no limit)."""
    worker_concurrency: int | None = 50
    """Runs executing at once in this worker."""
    runs_per_period: tuple[int, float] | None = None
    """Rate limit over the whole pool: at most ``n`` runs started per ``seconds`` (DBOS's limiter)."""
    heartbeat: float = 1.0
    """Seconds between two heartbeats (and reaper passes)."""
    dead_after: float = 5.0
    """A worker whose heartbeat is older than this many seconds is dead; its runs move on."""
    polling_interval: float = 0.1
    """Seconds between two looks at the queue."""
    executor_id: str = field(default_factory=lambda: _new_executor_id())
    """This worker's id in DBOS's tables."""
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> None:
        """Launch DBOS, start the heartbeat/reaper thread and begin executing runs.

        Raises:
            ConfigurationError: The store is not Postgres or an agent cannot be imported.
        """
        check_store(self.store)
        for ref in self.agents:
            durable_agent(ref)
        create_tables(self.store)
        conn = psycopg.connect(self.store, autocommit=True)
        self._beat(conn, first=True)
        PROCESS.log = ToolCallLog(self.store)
        DBOS(
            config={
                "name": "agentkit",
                "system_database_url": self.store,
                "executor_id": self.executor_id,
                "application_version": APP_VERSION,
            }
        )
        DBOS.launch()
        limiter: Any = None
        if self.runs_per_period is not None:
            limiter = {"limit": self.runs_per_period[0], "period": self.runs_per_period[1]}
        # The queue's limits live in the store: the worker started last sets them for the pool.
        DBOS.register_queue(
            self.queue,
            global_concurrency=self.concurrency,
            worker_concurrency=self.worker_concurrency,
            limiter=limiter,
            polling_interval_sec=self.polling_interval,
            on_conflict="always_update",
        )
        DBOS.register_queue(
            threads_queue(self.queue),
            global_concurrency=self.concurrency,
            worker_concurrency=self.worker_concurrency,
            limiter=limiter,
            partition_concurrency=1,
            polling_interval_sec=self.polling_interval,
            on_conflict="always_update",
        )
        self._thread = threading.Thread(target=self._watch, args=(conn,), name="agentkit-reaper", daemon=True)
        self._thread.start()
        logger.info("worker %s executes queue %r", self.executor_id, self.queue)

    def stop(self) -> None:
        """Stop executing runs (those in flight are recovered by another worker or a restart)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        DBOS.destroy()

    def run_forever(self) -> None:
        """Start, then serve until SIGINT or SIGTERM."""
        self.start()
        self.serve()

    def serve(self) -> None:
        """Serve (after ``start``) until SIGINT or SIGTERM, then stop."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self._stop.set())
        self._stop.wait()
        self.stop()

    def _watch(self, conn: psycopg.Connection[Any]) -> None:
        with conn:
            while not self._stop.wait(self.heartbeat):
                try:
                    self._beat(conn, first=False)
                    self._reap(conn)
                except psycopg.Error:
                    logger.exception("worker %s: heartbeat failed; retrying", self.executor_id)

    def _beat(self, conn: psycopg.Connection[Any], *, first: bool) -> None:
        if first:
            conn.execute(
                f"INSERT INTO {SCHEMA}.executors VALUES (%s, now()) "
                "ON CONFLICT (executor_id) DO UPDATE SET beat = now()",
                (self.executor_id,),
            )
            return
        cursor = conn.execute(
            f"UPDATE {SCHEMA}.executors SET beat = now() WHERE executor_id = %s", (self.executor_id,)
        )
        if cursor.rowcount == 0:
            # Another worker declared this one dead and handed its runs on: stop at once.
            logger.error("worker %s was declared dead by a reaper; exiting", self.executor_id)
            os._exit(_REAPED_EXIT)

    def _reap(self, conn: psycopg.Connection[Any]) -> None:
        """Hand the pending runs of dead workers back to the queue (one reaper per dead worker)."""
        with conn.transaction():
            dead = conn.execute(
                f"SELECT executor_id FROM {SCHEMA}.executors "
                "WHERE beat < now() - make_interval(secs => %s) FOR UPDATE SKIP LOCKED",
                (self.dead_after,),
            ).fetchall()
            for (executor_id,) in dead:
                handles = DBOS._recover_pending_workflows([executor_id])
                logger.warning(
                    "worker %s: worker %s is dead; %d runs go back to the queue",
                    self.executor_id,
                    executor_id,
                    len(handles),
                )
                conn.execute(f"DELETE FROM {SCHEMA}.executors WHERE executor_id = %s", (executor_id,))


def _new_executor_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

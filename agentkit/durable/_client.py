"""Enqueue durable runs and look at them from any process (no worker needed)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from dbos import DBOSClient
from dbos._error import DBOSStreamTimeoutError

from .. import PendingToolCall, ToolDecision
from .._redact import redact
from ..exceptions import ConfigurationError, DurableError
from ._workflow import APP_VERSION, STREAM, WORKFLOW_NAME, durable_agent

QUEUE = "agentkit"
"""The default queue's name."""

_clients: dict[str, DBOSClient] = {}


def threads_queue(queue: str) -> str:
    """The queue of the runs that continue a thread (partitioned by thread, one run at a time)."""
    return f"{queue}-threads"


def check_store(store: str) -> str:
    """Return ``store`` if it is a Postgres URL.

    Raises:
        ConfigurationError: Another kind of URL (durable runs need Postgres).
    """
    if not store.startswith(("postgresql://", "postgres://")):
        raise ConfigurationError(f"Durable runs need a Postgres store (postgresql://...), not {store!r}.")
    return store


def _client(store: str) -> DBOSClient:
    """A client of ``store`` (one per process and store).

    Raises:
        DurableError: No worker has set up the store yet (DBOS's client never creates tables).
    """
    client = _clients.get(store)
    if client is None:
        _check_tables(check_store(store))
        client = _clients[store] = DBOSClient(system_database_url=store)
    return client


def _check_tables(store: str) -> None:
    try:
        with psycopg.connect(store, autocommit=True) as conn:
            found = conn.execute("SELECT to_regclass('dbos.workflow_status')").fetchone()
    except psycopg.Error as exc:
        raise DurableError(f"Cannot reach the store: {redact(str(exc))}") from exc
    if found is None or found[0] is None:
        raise DurableError(
            "The store has no durable-run tables yet: start a worker on it once "
            "(agentkit worker module:agent --store URL), which creates them."
        )


def enqueue(
    store: str,
    agent: str,
    user_input: str | None,
    *,
    queue: str = QUEUE,
    run_id: str | None = None,
    stream: bool = False,
    session_id: str | None = None,
    decisions: Sequence[ToolDecision] | None = None,
) -> str:
    """Enqueue a run of ``agent`` (``"module:attribute"``) on ``user_input``; return its run id.

    The agent is imported here to record its fingerprint, so the caller must see the same code as
    the workers. ``run_id`` makes enqueueing idempotent: the same id enqueues one run. With
    ``stream`` the run writes its events for ``events()`` to read. With ``session_id`` the run
    continues that thread (``PostgresSession(session_id, store)``); runs of one thread go to the
    queue ``<queue>-threads`` and execute one at a time, in the order they were enqueued.
    ``decisions`` (with ``session_id`` and usually no input) resume a thread whose last run
    stopped at ``RunInfo.pending_tool_calls``.

    Raises:
        ConfigurationError: ``store`` is not Postgres, or ``agent`` cannot be imported.
    """
    _, version = durable_agent(agent)
    options: Any = {"queue_name": queue, "workflow_name": WORKFLOW_NAME, "app_version": APP_VERSION}
    if decisions and session_id is None:
        raise ConfigurationError("Durable runs resume with decisions= on a thread: pass session_id= too.")
    if session_id is not None:
        options.update(queue_name=threads_queue(queue), queue_partition_key=session_id)
    if run_id is not None:
        options["workflow_id"] = run_id
    handle: Any = _client(store).enqueue(
        options, agent, version, user_input, stream, session_id, list(decisions or ()) or None
    )
    return str(handle.get_workflow_id())


@dataclass(frozen=True)
class StepInfo:
    """One recorded step of a run."""

    number: int
    """DBOS's step number (its position in the run, from 1)."""
    name: str
    """``model`` or ``tool:<name>``."""
    output: Any
    """The recorded result (a ``ModelTurn``, or ``(tool_call_id, content, is_error, deadline_passed)``)."""
    error: str | None
    """The recorded error, if the step raised."""
    seconds: float | None
    """How long the step took."""


@dataclass(frozen=True)
class RunInfo:
    """A durable run as recorded."""

    run_id: str
    """The run's (workflow's) id."""
    status: str
    """DBOS's status: ``ENQUEUED``, ``PENDING``, ``SUCCESS``, ``ERROR``, ``CANCELLED``..."""
    agent: str | None
    """The agent reference the run was enqueued with."""
    output: Any = None
    """The final output (``SUCCESS`` only)."""
    messages: list[dict[str, Any]] = field(default_factory=list)
    """The run's history (``SUCCESS`` only)."""
    pending_tool_calls: list[PendingToolCall] = field(default_factory=list)
    """The calls the run stopped at (approval or client-executed); decide them and enqueue
    ``decisions=`` on the same thread."""
    error: str | None = None
    """What ended the run (``ERROR`` only)."""
    executor_id: str | None = None
    """The worker that holds or held the run."""
    steps: list[StepInfo] = field(default_factory=list)
    """The recorded steps, in order."""


def show(store: str, run_id: str, *, steps: bool = True) -> RunInfo:
    """Return what is recorded about run ``run_id``.

    Raises:
        DurableError: No run has this id.
    """
    client = _client(store)
    found = client.list_workflows(workflow_ids=[run_id])
    if not found:
        raise DurableError(f"No durable run {run_id!r} in this store.")
    status = found[0]
    args = status.input["args"] if status.input else ()
    data = status.output if isinstance(status.output, dict) else {}
    return RunInfo(
        run_id=run_id,
        status=str(status.status),
        agent=str(args[0]) if args else None,
        output=data.get("output"),
        messages=data.get("messages", []),
        pending_tool_calls=data.get("pending_tool_calls", []),
        error=_error(status.error),
        executor_id=status.executor_id,
        steps=[_step(s) for s in client.list_workflow_steps(run_id)] if steps else [],
    )


def _error(error: Any) -> str | None:
    # DBOS hands back an error it cannot rebuild (e.g. a RunError) as its text.
    if error is None or isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}"


def _step(step: Any) -> StepInfo:
    start, end = step.get("started_at_epoch_ms"), step.get("completed_at_epoch_ms")
    error = step.get("error")
    return StepInfo(
        number=step["function_id"],
        name=step["function_name"],
        output=step.get("output"),
        error=_error(error),
        seconds=(end - start) / 1000 if start is not None and end is not None else None,
    )


def result(store: str, run_id: str, *, timeout: float = 60.0, poll: float = 0.1) -> RunInfo:
    """Wait until run ``run_id`` has finished and return it (without steps).

    Raises:
        DurableError: No such run.
        TimeoutError: It did not finish within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        info = show(store, run_id, steps=False)
        if info.status in {"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"}:
            return info
        if time.monotonic() >= deadline:
            raise TimeoutError(f"Run {run_id} did not finish within {timeout:g} s (status {info.status}).")
        time.sleep(poll)


def events(store: str, run_id: str, *, after: int = -1, timeout: float = 60.0) -> Iterator[tuple[int, Any]]:
    """Yield ``(event_id, event)`` for the events of a run enqueued with ``stream=True``, from
    any process, while the run executes elsewhere; ends after ``FinalResult`` (or when the run
    ends without one, e.g. on an error).

    Event ids count from 0 in the run's order. A consumer that lost its connection passes the last
    id it handled as ``after`` and gets the rest; delivery is at-least-once across such resumes,
    so de-duplicate by id.

    Raises:
        DurableError: No such run.
        TimeoutError: No event came for ``timeout`` seconds.
    """
    show(store, run_id, steps=False)
    values = _client(store).read_stream(run_id, STREAM, offset=after + 1, timeout_seconds=timeout)
    try:
        yield from enumerate(values, start=after + 1)
    except DBOSStreamTimeoutError as exc:
        raise TimeoutError(f"No event of run {run_id} within {timeout:g} s.") from exc

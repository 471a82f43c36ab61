"""The step runner (``Agent(step_runner=...)``) that makes a run's model requests and tool calls
DBOS steps.

On replay DBOS hands back each finished step's recorded result instead of running it. A tool step
records its ``tool_call_id`` with the result, and the id is checked against the call being
replayed: DBOS knows a step only by its position and name, so a mismatch (steps recorded in
another order) must stop the run, not swap two results. Steps start in the model's call order:
the dispatcher starts one task per call, in order, and DBOS numbers a step when it is called,
before its first ``await`` (an async ``before_tool_call`` hook that suspends could reorder them;
the check catches that).

A tool call that was in flight at a crash has no recorded result and a row in ``tool_calls``: it is
run again only if the tool is idempotent (with the same ``idempotency_key``: the run keeps its id,
which ``run_id()`` supplies), else it is closed "interrupted, outcome unknown", like a thread
loaded from a session.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dbos import DBOS

from .._loop.resume import INTERRUPTED_RESULT
from .._serialize import serialize_output
from ..exceptions import DurableError, DurableReplayError
from ..hooks import Step
from ._session import current as current_session
from ._tables import ToolCallLog

logger = logging.getLogger("agentkit.durable")


@dataclass
class Process:
    """What the durable runs of this process share."""

    log: ToolCallLog | None = None
    """Where tool calls are marked as started; set when the worker starts."""


PROCESS = Process()


def store_url() -> str:
    """The store of this process's worker (where durable threads live).

    Raises:
        DurableError: No worker was started in this process.
    """
    if PROCESS.log is None:
        raise DurableError("Durable runs need a started Worker in this process.")
    return PROCESS.log.url


@dataclass(frozen=True)
class DBOSSteps:
    """A ``StepRunner`` for the runs of one agent executed as DBOS workflows."""

    idempotent: frozenset[str]
    """Names of the agent's tools that may run again after a crash."""

    def run_id(self) -> str:
        """Return the running workflow's id (the run's id, the same on replay).

        Raises:
            DurableError: The agent runs outside a DBOS workflow.
        """
        workflow_id = DBOS.workflow_id
        if workflow_id is None:
            raise DurableError("A durable agent ran outside a DBOS workflow; enqueue it instead.")
        return workflow_id

    async def __call__(self, step: Step, run: Callable[[], Awaitable[Any]]) -> Any:
        """Make the model request or tool call as a DBOS step (``model`` or ``tool:<name>``)."""
        if step.kind == "model_request":
            thread = current_session.get()
            if thread is not None:
                # What the loop journaled since the last request goes to the session first.
                await thread.flush()

            async def request() -> Any:
                # DBOS awaits coroutine functions only; ``run`` may be a lambda.
                return await run()

            return await DBOS.run_step_async({"name": "model"}, request)
        return await self._tool_call(step, run)

    async def _tool_call(self, step: Step, run: Callable[[], Awaitable[Any]]) -> Any:
        """Run the call once; check on replay that the recorded result is this call's.

        Raises:
            DurableReplayError: The recorded step belongs to another tool call.
        """
        log = PROCESS.log
        if log is None or step.idempotency_key is None:
            raise DurableError("Durable tool calls need a started Worker (its store keeps the call log).")
        key = step.idempotency_key

        async def execute() -> tuple[str | None, bool, Any]:
            # Only a call that may not run twice needs its start on record (one write).
            if step.name not in self.idempotent and not await log.start(key, step.run_id):
                logger.warning("run %s: tool call %s was interrupted", step.run_id, step.tool_call_id)
                return (step.tool_call_id, False, INTERRUPTED_RESULT)
            try:
                return (step.tool_call_id, False, _picklable(await run()))
            except Exception as exc:
                return (step.tool_call_id, True, _picklable_error(exc))

        recorded_id, raised, value = await DBOS.run_step_async({"name": f"tool:{step.name}"}, execute)
        if recorded_id != step.tool_call_id:
            raise DurableReplayError(
                f"Run {step.run_id}: the recorded result of a {step.name!r} step belongs to tool call "
                f"{recorded_id!r}, not {step.tool_call_id!r}; the run is not replayed."
            )
        if raised:
            raise value
        return value


def _picklable(value: Any) -> Any:
    """``value``, or its serialized text when DBOS could not record it (what the model reads)."""
    try:
        pickle.dumps(value)
    except Exception:
        return serialize_output(value)
    return value


def _picklable_error(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc

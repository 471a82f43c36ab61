"""The step runner that turns a run's model requests and tool calls into DBOS steps.

On replay DBOS hands back each finished step's recorded result instead of running it. A tool step
returns its ``tool_call_id`` with the result, and the id is checked against the call being
replayed: DBOS knows a step only by its position and name, so a mismatch (steps recorded in
another order) must stop the run, not swap two results. Steps start in the model's call order
(the dispatcher creates one task per call, in order, and DBOS numbers a step when it is called).

A tool call that was in flight at a crash has no recorded result and a row in ``tool_calls``: it is
run again only if the tool is idempotent (with the same ``idempotency_key``), else it is closed
"interrupted, outcome unknown", like a thread loaded from a session.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dbos import DBOS

from .. import ToolCall
from .._loop.dispatch import CallOutcome
from .._loop.resume import INTERRUPTED_RESULT
from .._wire import ModelTurn
from ..exceptions import DurableError, DurableReplayError
from ._session import current as current_session
from ._tables import ToolCallLog

logger = logging.getLogger("agentkit.durable")

Recorded = tuple[str, str, bool, bool]
"""What a tool step records: ``(tool_call_id, content, is_error, deadline_passed)``."""


@dataclass
class DBOSSteps:
    """A ``StepRunner`` for runs executed as DBOS workflows (one per worker process)."""

    log: ToolCallLog | None = None
    """Where tool calls are marked as started; set when the worker starts."""
    interrupted: list[str] = field(default_factory=list)
    """Idempotency keys of calls this process closed as interrupted (for tests and logs)."""

    def run_id(self) -> str:
        """Return the running workflow's id."""
        workflow_id = DBOS.workflow_id
        if workflow_id is None:
            raise DurableError("A durable agent ran outside a DBOS workflow; enqueue it instead.")
        return workflow_id

    async def model_request(
        self, run_id: str, turn: int, fn: Callable[[], Awaitable[ModelTurn]]
    ) -> ModelTurn:
        """Make the request as the step ``model``; its ``ModelTurn`` is what DBOS records."""

        thread = current_session.get()
        if thread is not None:
            # What the loop journaled since the last request goes to the session first.
            await thread.flush()

        async def request() -> ModelTurn:
            return await fn()

        return await DBOS.run_step_async({"name": "model"}, request)

    async def tool_call(
        self, call: ToolCall, key: str, idempotent: bool, fn: Callable[[], Awaitable[CallOutcome]]
    ) -> CallOutcome:
        """Run the call as the step ``tool:<name>`` and check the recorded ``tool_call_id``.

        Raises:
            DurableReplayError: The recorded step belongs to another tool call.
        """
        log = self.log
        if log is None:
            raise DurableError("Durable tool calls need a started Worker (its store keeps the call log).")
        run_id = self.run_id()

        async def step() -> Recorded:
            if not await log.start(key, run_id) and not idempotent:
                logger.warning("run %s: tool call %s was interrupted", run_id, call.tool_call_id)
                self.interrupted.append(key)
                return (call.tool_call_id, INTERRUPTED_RESULT, True, False)
            outcome = await fn()
            return (outcome.call.tool_call_id, outcome.content, outcome.is_error, outcome.deadline_passed)

        recorded: Recorded = await DBOS.run_step_async({"name": f"tool:{call.name}"}, step)
        if recorded[0] != call.tool_call_id:
            raise DurableReplayError(
                f"Run {run_id}: the recorded result of a {call.name!r} step belongs to tool call "
                f"{recorded[0]!r}, not {call.tool_call_id!r}; the run is not replayed."
            )
        return CallOutcome(call, recorded[1], recorded[2], deadline_passed=recorded[3])


STEPS = DBOSSteps()
"""The step runner of this process."""


def store_url() -> str:
    """The store of this process's worker (where durable threads live).

    Raises:
        DurableError: No worker was started in this process.
    """
    if STEPS.log is None:
        raise DurableError("Durable runs need a started Worker in this process.")
    return STEPS.log.url

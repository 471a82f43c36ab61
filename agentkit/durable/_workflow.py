"""The DBOS workflow that runs an agent, and how an agent is named and versioned.

An agent is named by reference (``"package.module:attribute"``) so that any process can run it:
the worker imports the module. Its *fingerprint* (a hash of the model, instructions, tool schemas,
settings and output type) is stored with the run; a worker whose agent has another fingerprint
refuses to replay the run (``DurableVersionError``) instead of mixing two versions' steps.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from contextlib import aclosing
from dataclasses import asdict
from typing import Any

from dbos import DBOS

from .. import Agent, RunResult, ToolDecision
from ..events import FinalResult
from ..exceptions import ConfigurationError, DurableVersionError
from ..sessions import PostgresSession
from ._session import StepSession
from ._session import current as current_session
from ._steps import DBOSSteps, store_url

WORKFLOW_NAME = "agentkit.run"
"""The workflow's registered name (what ``enqueue`` names)."""
APP_VERSION = "agentkit-durable-1"
"""DBOS's application version for every agentkit worker; agents are versioned by fingerprint."""

_durable: dict[str, tuple[Agent[Any, Any], str]] = {}


def load_agent(ref: str) -> Agent[Any, Any]:
    """Import the agent ``ref`` names (``"module:attribute"``).

    Raises:
        ConfigurationError: ``ref`` is malformed, cannot be imported or is not an ``Agent``.
    """
    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"An agent reference looks like 'package.module:agent', not {ref!r}.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"Cannot import {module_name!r} for agent {ref!r}: {exc}") from exc
    agent = getattr(module, attribute, None)
    if not isinstance(agent, Agent):
        raise ConfigurationError(f"{ref!r} is not an agentkit Agent (found {type(agent).__name__}).")
    return agent


def fingerprint(agent: Agent[Any, Any]) -> str:
    """Hash what makes two versions of an agent replay differently (16 hex digits)."""
    output = agent.output_type
    described = {
        "model": agent.model,
        "api": agent.api,
        "instructions": agent.instructions,
        "tools": [t.to_openai() for t in agent.tools],
        "idempotent": [t.name for t in agent.tools if t.idempotent],
        "settings": dict(agent.model_settings),
        "tool_choice": agent.tool_choice,
        "parallel_tool_calls": agent.parallel_tool_calls,
        "output": None if output is None else _schema(output),
        "max_turns": agent.max_turns,
    }
    raw = json.dumps(described, sort_keys=True, default=repr)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _schema(output: type[Any]) -> Any:
    schema = getattr(output, "model_json_schema", None)
    return schema() if callable(schema) else output.__qualname__


def durable_agent(ref: str) -> tuple[Agent[Any, Any], str]:
    """The agent ``ref`` names with DBOS steps, and its fingerprint (imported once per process)."""
    found = _durable.get(ref)
    if found is None:
        agent = load_agent(ref)
        runner = DBOSSteps(frozenset(t.name for t in agent.tools if t.idempotent))
        found = _durable[ref] = (agent.clone(step_runner=runner), fingerprint(agent))
    return found


STREAM = "events"
"""The DBOS stream a streamed run writes its events to."""


@DBOS.workflow(name=WORKFLOW_NAME)
async def run_workflow(
    ref: str,
    recorded_fingerprint: str,
    user_input: str | None,
    stream: bool = False,
    session_id: str | None = None,
    decisions: list[ToolDecision] | None = None,
) -> dict[str, Any]:
    """Run the agent ``ref`` on ``user_input``; return the result as plain data.

    With ``stream`` every event (``agentkit.events``; a turn's text is one ``TextDelta``, since a
    model request is one step) is written to the run's DBOS stream as it happens. Writing is
    itself a step, so a replayed run does not write an event twice.

    With ``session_id`` the run continues that thread (a ``PostgresSession`` in the store) and
    journals to it through ``StepSession``. A run that stops at calls waiting for approval or a
    client-executed tool ends (its workflow finishes, no worker waits); ``decisions`` resume the
    thread in a new run.

    Raises:
        DurableVersionError: The worker's agent is not the version that recorded the run.
    """
    agent, current = durable_agent(ref)
    if current != recorded_fingerprint:
        raise DurableVersionError(
            f"Run {DBOS.workflow_id} was recorded by another version of agent {ref!r} "
            f"(fingerprint {recorded_fingerprint}, this worker has {current}); it is not replayed."
        )
    thread = None
    if session_id is not None:
        # Wait a while for a run outside the pool that holds the thread (pool runs of one thread
        # never overlap: their queue runs one per thread).
        thread = StepSession(PostgresSession(session_id, store_url(), lock_timeout=30.0))
    token = current_session.set(thread)
    try:
        if stream:
            result = await _streamed(agent, user_input, thread, decisions)
        else:
            result = await agent.run(user_input, session=thread, decisions=decisions)
    finally:
        current_session.reset(token)
        if thread is not None:
            await thread.flush()
            await thread.inner.aclose()
    output = result.output
    dump = getattr(output, "model_dump", None)
    return {
        "output": dump(mode="json") if callable(dump) else output,
        "messages": result.messages,
        "usage": asdict(result.usage),
        "finish_reason": result.finish_reason,
        "pending_tool_calls": result.pending_tool_calls,
    }


async def _streamed(
    agent: Agent[Any, Any],
    user_input: str | None,
    thread: StepSession | None,
    decisions: list[ToolDecision] | None,
) -> RunResult[Any]:
    final: RunResult[Any] | None = None
    try:
        events = agent.run_stream(user_input, session=thread, decisions=decisions)
        async with aclosing(events):
            async for event in events:
                await DBOS.write_stream_async(STREAM, event)
                if isinstance(event, FinalResult):
                    final = event.result
    finally:
        await DBOS.close_stream_async(STREAM)
    assert final is not None
    return final

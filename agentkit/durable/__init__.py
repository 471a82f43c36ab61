"""Durable agent runs on DBOS Transact (``pip install 'agentkit-openai[dbos]'``).

A durable run is a DBOS workflow: every model request and every tool call is a step whose result
is checkpointed in Postgres, so a run that a crash interrupts resumes on a live worker without
repeating finished work. Runs are enqueued from any process and executed by a pool of workers::

    from agentkit.durable import Worker, enqueue, result

    run_id = enqueue(STORE, "myapp.agents:support", "Where is my order 42?")
    # elsewhere: Worker(STORE).run_forever()   (or `agentkit worker myapp.agents:support --store URL`)
    print(result(STORE, run_id).output)

The agent is named by reference (``"module:attribute"``): every worker imports it, and a run
recorded by another version of the agent (other tools, instructions, model or settings) fails with
``DurableVersionError`` instead of being replayed. See docs/durable.md for the guarantees.
"""

from __future__ import annotations

try:
    import dbos as _dbos  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    from ..exceptions import ConfigurationError

    raise ConfigurationError("agentkit.durable needs DBOS: pip install 'agentkit-openai[dbos]'") from exc

from ._client import RunInfo, StepInfo, enqueue, events, result, show
from ._worker import Worker

__all__ = ["RunInfo", "StepInfo", "Worker", "enqueue", "events", "result", "show"]

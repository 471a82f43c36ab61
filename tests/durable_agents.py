"""Agents for the durable-run tests, imported by worker processes (``tests.durable_agents:agent``).

The model is ``benchmarks/fake_server.py`` on 127.0.0.1 (``AGENTKIT_DURABLE_MODEL_URL``): the
prompt ``turns=T calls=C latency=MS`` makes it answer T turns of C parallel ``lookup`` calls, then
``FINAL results=N`` (N tool results it saw). Every execution of ``lookup`` inserts a row into
``effects`` in ``AGENTKIT_DURABLE_EFFECTS_DSN``, so a test can count executions per call.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import psycopg
from openai import AsyncOpenAI

from agentkit import Agent, RunContext, tool

_local = threading.local()


def _effects() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["AGENTKIT_DURABLE_EFFECTS_DSN"], autocommit=True)
    return conn


def _lookup(ctx: RunContext[None], key: str) -> str:
    """Look a key up.

    Args:
        key: What to look up.
    """
    _effects().execute(
        "INSERT INTO effects (idempotency_key, run_id, tool_call_id) VALUES (%s, %s, %s)",
        (ctx.idempotency_key, ctx.run_id, ctx.tool_call_id),
    )
    time.sleep(float(os.environ.get("AGENTKIT_DURABLE_TOOL_SECONDS", "0.02")))
    return f"value-of-{key}"


def _client() -> AsyncOpenAI:
    return AsyncOpenAI(
        base_url=os.environ.get("AGENTKIT_DURABLE_MODEL_URL", "http://127.0.0.1:9/v1"),
        api_key="test-key",
        max_retries=0,
    )


lookup = tool(name="lookup")(_lookup)
lookup_idempotent = tool(name="lookup", idempotent=True)(_lookup)

agent = Agent(
    "gpt-4o-mini",
    tools=[lookup],
    client=_client(),
    # A test starts a worker with other instructions to play another version of the agent.
    instructions=os.environ.get("AGENTKIT_DURABLE_INSTRUCTIONS", "Look things up."),
)
"""Its ``lookup`` is not idempotent: a call in flight at a crash is closed, never run twice."""
idempotent_agent = Agent("gpt-4o-mini", tools=[lookup_idempotent], client=_client())
"""Its ``lookup`` is idempotent: a call in flight at a crash runs again with the same key."""

approval_agent = Agent(
    "gpt-4o-mini", tools=[tool(name="lookup", requires_approval=True)(_lookup)], client=_client()
)
"""Every ``lookup`` call waits for approval."""

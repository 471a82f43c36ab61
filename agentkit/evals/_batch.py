"""Batch API mode: one request per case and variant in a JSONL file, submitted, polled, mapped back.

Each input line is ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``;
each output line carries the same ``custom_id`` with ``response.status_code`` and ``response.body``,
or an ``error`` (OpenAI Batch API reference; the SDK's ``batches`` types agree). Batches
finish within the 24 h completion window at half the synchronous price.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..exceptions import AgentkitError, UserError
from ._case import Case
from ._evaluate import tool_calls_in
from ._store import CaseResult, ResultStore

logger = logging.getLogger("agentkit.evals")

__all__ = ["FINAL_STATUSES", "batch_requests", "run_batch"]

FINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
"""Batch statuses after which nothing changes; any other string (``validating``,
``in_progress``, ``finalizing``, ``cancelling``, or one added later) means: keep polling."""


def _body(agent: Any, case: Case) -> dict[str, Any]:
    if getattr(agent, "api", "chat") != "chat":
        raise UserError("Batch mode sends Chat Completions requests; use an agent with api='chat'.")
    messages: list[dict[str, Any]] = (
        [{"role": "system", "content": agent.instructions}] if agent.instructions else []
    )
    messages += [{"role": "user", "content": case.input}] if isinstance(case.input, str) else list(case.input)
    body: dict[str, Any] = {**agent.model_settings, "model": agent.model, "messages": messages}
    if agent.tools:
        body["tools"] = [t.to_openai() for t in agent.tools]
        if agent.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = agent.parallel_tool_calls
        if agent.tool_choice is not None:
            body["tool_choice"] = agent.tool_choice
    return body


def batch_requests(agents: dict[str, Any], cases: Sequence[Case], store: ResultStore) -> list[dict[str, Any]]:
    """The Batch input lines for every (variant, case) without a stored result."""
    lines = []
    for number, (label, agent) in enumerate(agents.items()):
        for case in cases:
            if not store.done(label, case.id):
                lines.append(
                    {
                        "custom_id": f"v{number}-{case.id}",
                        "method": "POST",
                        "url": "/v1/chat/completions",
                        "body": _body(agent, case),
                    }
                )
    return lines


def _result(label: str, case_id: str, line: dict[str, Any]) -> CaseResult:
    result = CaseResult(label, case_id, batch=True)
    response = line.get("response") or {}
    body = response.get("body") or {}
    if line.get("error") or response.get("status_code", 200) >= 400:
        error = line.get("error") or body.get("error") or {}
        result.error = (
            f"{error.get('code') or response.get('status_code')}: {error.get('message', '')}".strip()
        )
        return result
    message = ((body.get("choices") or [{}])[0]).get("message") or {}
    result.tool_calls = tool_calls_in([message])
    result.output = None if result.tool_calls else message.get("content")
    usage = body.get("usage") or {}
    result.input_tokens = int(usage.get("prompt_tokens") or 0)
    result.output_tokens = int(usage.get("completion_tokens") or 0)
    result.cached_tokens = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    return result


async def run_batch(
    agents: dict[str, Any], cases: Sequence[Case], store: ResultStore, *, poll_interval: float
) -> None:
    """Submit the missing cases as one batch, wait for it, and store every result.

    The batch id is saved next to the results file (``<results>.batch``) while it runs, so an
    interrupted evaluation resumes polling the same batch instead of paying for a second one.

    Raises:
        AgentkitError: The batch ended ``failed``, ``expired`` or ``cancelled`` with no output.
    """
    lines = batch_requests(agents, cases, store)
    if not lines:
        return
    client = next(iter(agents.values())).client  # the first variant's client sends the whole batch
    owners = {f"v{n}-{case.id}": (label, case.id) for n, label in enumerate(agents) for case in cases}
    marker = Path(f"{store.path}.batch") if store.path is not None else None
    batch_id = await _submit(client, lines, marker)
    while True:
        batch = await client.batches.retrieve(batch_id)
        if str(batch.status) in FINAL_STATUSES:
            break
        await asyncio.sleep(poll_interval)
    found = 0
    for file_id in (batch.output_file_id, batch.error_file_id):
        found += await _collect(client, file_id, owners, store) if file_id else 0
    if marker is not None and marker.exists():
        marker.unlink()
    if batch.status != "completed" and not found:
        raise AgentkitError(f"Batch {batch_id} ended with status {batch.status!r} and no output.")


async def _submit(client: Any, lines: list[dict[str, Any]], marker: Path | None) -> str:
    """Upload the input file and create the batch, or resume the batch named in ``marker``."""
    if marker is not None and marker.exists():
        batch_id = str(json.loads(marker.read_text())["batch_id"])
        logger.info("resuming batch %s", batch_id)
        return batch_id
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    uploaded = await client.files.create(file=("evals.jsonl", data), purpose="batch")
    batch = await client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    if marker is not None:
        marker.write_text(json.dumps({"batch_id": batch.id}))
    return str(batch.id)


async def _collect(client: Any, file_id: str, owners: dict[str, tuple[str, str]], store: ResultStore) -> int:
    """Store a result for every line of an output or error file; return how many."""
    content = await client.files.content(file_id)
    found = 0
    for raw in content.text.splitlines():
        line = json.loads(raw) if raw.strip() else {}
        owner = owners.get(line.get("custom_id", ""))
        if owner is not None:
            store.add(_result(*owner, line))
            found += 1
    return found

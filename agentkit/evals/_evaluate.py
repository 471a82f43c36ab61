"""``evaluate``: run every case against every variant with bounded concurrency, resumably."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ..exceptions import AgentkitError, ConfigurationError, UserError
from ._case import Case
from ._report import EvalReport, build_report
from ._store import CaseResult, ResultStore

logger = logging.getLogger("agentkit.evals")

__all__ = ["evaluate", "tool_calls_in", "variants"]


def variants(agent: Any, models: Sequence[str] | None) -> dict[str, Any]:
    """The agents to compare, by label.

    ``agent`` is one agent (compared over ``models`` with ``agent.clone(model=...)``) or a
    mapping ``{label: agent}`` of any configurations (prompt A vs prompt B).

    Raises:
        UserError: Nothing to compare, ``models`` with an agent that cannot be cloned, or a
            variant that is not an agent (no ``run`` method or no ``model`` name).
    """
    if isinstance(agent, Mapping):
        if models:
            raise UserError("Pass models= with one agent, or a {label: agent} mapping, not both.")
        if not agent:
            raise UserError("The mapping of agents is empty.")
        for label, each in agent.items():
            _check_agent(each, f"agent {label!r}")
        return dict(agent)
    _check_agent(agent, "agent")
    if not models:
        return {agent.model: agent}
    clone = getattr(agent, "clone", None)
    if clone is None:
        raise UserError("models= needs Agent.clone(); pass {label: agent} to compare configurations.")
    return {model: clone(model=model) for model in models}


def _check_agent(agent: Any, what: str) -> None:
    if not callable(getattr(agent, "run", None)) or not isinstance(getattr(agent, "model", None), str):
        kind = type(agent).__name__
        raise UserError(f"The {what} is not an agent: a {kind!r} has no run() or no model name.")


def _hits_every_case(exc: Exception) -> bool:
    """Whether ``exc`` comes from the variant's set-up, not from one case: a missing API key, a
    bad option (``UserError``), a rejected key (401/403) or an unknown model or URL (404)."""
    import openai

    return isinstance(
        exc, (UserError, openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)
    )


def tool_calls_in(messages: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The calls in a transcript (either wire format), in order: ``{"name", "arguments"}``."""
    calls = []
    for item in messages:
        if item.get("type") == "function_call":
            calls.append({"name": item.get("name", ""), "arguments": item.get("arguments") or "{}"})
        for tc in item.get("tool_calls") or ():
            fn = tc.get("function") or {}
            calls.append({"name": fn.get("name", ""), "arguments": fn.get("arguments") or "{}"})
    return calls


async def _run_case(label: str, agent: Any, case: Case) -> CaseResult:
    started = time.perf_counter()
    result = CaseResult(label, case.id)
    try:
        run = await agent.run(case.input)
    except Exception as exc:  # a case-specific failure counts against the variant, not the others
        if _hits_every_case(exc):
            raise ConfigurationError(f"variant {label!r} cannot run: {type(exc).__name__}: {exc}") from exc
        result.error = f"{type(exc).__name__}: {exc}"
        messages = (getattr(exc, "messages", None) or []) if isinstance(exc, AgentkitError) else []
        usage = getattr(exc, "usage", None) if isinstance(exc, AgentkitError) else None
    else:
        messages, usage = run.new_messages, run.usage
        result.output = (
            run.output
            if isinstance(run.output, str)
            else (None if run.output is None else run.output.model_dump_json())
        )
    result.latency_s = time.perf_counter() - started
    result.tool_calls = tool_calls_in(messages)
    if usage is not None:
        result.input_tokens, result.output_tokens = usage.input_tokens, usage.output_tokens
        result.cached_tokens = usage.cached_tokens
    return result


async def evaluate(
    agent: Any,
    cases: Sequence[Case],
    *,
    models: Sequence[str] | None = None,
    concurrency: int = 8,
    results_path: str | os.PathLike[str] | None = None,
    mode: Literal["run", "batch"] = "run",
    poll_interval: float = 30.0,
) -> EvalReport:
    """Run each case against each variant and report per-variant metrics.

    Args:
        agent: An ``Agent`` (with ``models``) or a mapping ``{label: agent}``.
        cases: The held-out cases.
        models: Model names to compare, each run as ``agent.clone(model=name)``.
        concurrency: Runs in flight at once, over all variants.
        results_path: A JSONL file where each result is appended as it finishes; cases already
            in it are not run again (resume after a crash or a ``Ctrl-C``).
        mode: ``"run"`` runs the whole agent loop (tools executed). ``"batch"`` sends the first
            request of each case through the Batch API (half the price, results within 24 h):
            it scores the first reply only (the tool choice and arguments, or a direct answer).
        poll_interval: Seconds between Batch API status checks.

    A failure of one case (a run limit, a bad request, a rate limit the SDK gave up on) is
    stored as that case's ``error`` and the others go on. A failure that would hit every case
    of a variant stops the whole evaluation instead: results stored so far are kept (a
    ``results_path`` resumes from them).

    Raises:
        UserError: No cases, duplicate case ids, or bad variants / ``concurrency`` /
            ``poll_interval``.
        ConfigurationError: A variant cannot run at all: a missing API key or another
            ``UserError`` from its run, a rejected key (401, 403) or an unknown model (404).
            The message names the variant; the original error is its ``__cause__``.
    """
    _check(cases, concurrency)
    if not poll_interval >= 0:
        raise UserError(f"poll_interval must be a number of seconds >= 0, not {poll_interval!r}.")
    agents = variants(agent, models)
    store = ResultStore(results_path)
    if mode == "batch":
        from ._batch import run_batch

        await run_batch(agents, cases, store, poll_interval=poll_interval)
    else:
        await _run_all(agents, cases, store, concurrency)
    return await build_report(agents, cases, store)


def _check(cases: Sequence[Case], concurrency: int) -> None:
    if not cases:
        raise UserError("There are no cases to evaluate.")
    if len({c.id for c in cases}) != len(cases):
        raise UserError("Two cases share an id; give them distinct 'id' values.")
    if concurrency < 1:
        raise UserError("concurrency must be at least 1.")


async def _run_all(
    agents: dict[str, Any], cases: Sequence[Case], store: ResultStore, concurrency: int
) -> None:
    """Run every missing (variant, case) with ``concurrency`` workers; each result is stored at once."""
    queue: asyncio.Queue[tuple[str, Case]] = asyncio.Queue()
    for label in agents:
        for case in cases:
            if not store.done(label, case.id):
                queue.put_nowait((label, case))
    skipped = len(agents) * len(cases) - queue.qsize()
    if skipped:
        logger.info("resuming: %d result(s) already in %s", skipped, store.path)

    async def worker() -> None:
        while True:
            try:
                label, case = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            store.add(await _run_case(label, agents[label], case))

    # The first worker to fail (a variant that cannot run) cancels the others, which are awaited
    # before the error propagates: no run is left behind.
    tasks = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, max(1, queue.qsize())))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

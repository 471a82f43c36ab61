"""``agentkit eval CASES.jsonl --agent module:agent --model A --model B``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from ..exceptions import AgentkitError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``eval`` arguments."""
    parser.add_argument(
        "cases", help="CASES.jsonl: one {input, expected_tool_calls, expected_output, match} a line"
    )
    parser.add_argument(
        "--agent",
        required=True,
        action="append",
        help="module:agent (give it twice, or as LABEL=module:agent, to compare configurations)",
    )
    parser.add_argument("--model", action="append", default=[], help="a model to compare (repeatable)")
    parser.add_argument("--concurrency", type=int, default=8, help="runs in flight at once")
    parser.add_argument("--results", help="JSONL file results are appended to; an existing one is resumed")
    parser.add_argument("--batch", action="store_true", help="use the Batch API (first reply of each case)")
    parser.add_argument("--poll-interval", type=float, default=30.0, help="seconds between batch polls")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    parser.add_argument("--png", help="also write a chart of the metrics to this PNG")


def run(args: argparse.Namespace) -> int:
    """Run the evaluation; 0 every case ran, 1 some case ended in an error, 2 bad input.

    A variant that cannot run at all (no API key, an unknown model, not an agent) is bad input:
    ``evaluate`` raises ``ConfigurationError`` and nothing is reported.
    """
    from openai import OpenAIError

    try:
        return asyncio.run(_run(args))
    except (AgentkitError, OpenAIError) as exc:
        print(f"agentkit eval: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


async def _run(args: argparse.Namespace) -> int:
    from ._case import load_cases
    from ._evaluate import evaluate

    cases = load_cases(args.cases)
    if len(args.agent) == 1 and "=" not in args.agent[0]:
        agent = load_object(args.agent[0])
    else:
        if args.model:
            raise AgentkitError("--model compares one agent; with several --agent, drop --model")
        agent = {}
        for target in args.agent:
            label, _, where = target.rpartition("=")
            agent[label or where] = load_object(where)
    report = await evaluate(
        agent,
        cases,
        models=args.model or None,
        concurrency=args.concurrency,
        results_path=args.results,
        mode="batch" if args.batch else "run",
        poll_interval=args.poll_interval,
    )
    print(report.to_json() if args.json else report.table())
    if args.png:
        report.write_png(args.png)
    return 1 if any(r.error is not None for r in report.results) else 0


def load_object(target: str) -> Any:
    """Import ``module:attribute`` (or ``path/to/file.py:attribute``).

    Raises:
        AgentkitError: The module cannot be imported or has no such attribute.
    """
    from .._schema_cli import _import

    where, _, attribute = target.rpartition(":")
    if not where or not attribute:
        raise AgentkitError(f"{target!r}: name it as module:attribute or path/to/file.py:attribute")
    try:
        module = _import(where)
    except Exception as exc:
        raise AgentkitError(f"importing {where!r} failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, attribute):
        raise AgentkitError(f"{where!r} has no attribute {attribute!r}")
    return getattr(module, attribute)

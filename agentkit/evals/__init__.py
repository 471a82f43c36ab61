"""A/B evaluation of agents on held-out cases: tool choice, arguments, answers, latency, cost.

    cases = load_cases("cases.jsonl")
    report = await evaluate(agent, cases, models=["gpt-4o-mini", "ft:gpt-4o-mini-2024-07-18:acme::abc"])
    print(report.table())

Any two configurations compare the same way: ``evaluate({"prompt A": a, "prompt B": b}, cases)``.
"""

from __future__ import annotations

from ._case import Case, Scorer, load_cases
from ._evaluate import evaluate
from ._judge import llm_judge
from ._report import EvalReport, ModelMetrics
from ._store import CaseResult

__all__ = [
    "Case",
    "CaseResult",
    "EvalReport",
    "ModelMetrics",
    "Scorer",
    "evaluate",
    "llm_judge",
    "load_cases",
]

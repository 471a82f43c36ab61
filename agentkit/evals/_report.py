"""Per-variant metrics from stored results, and the report as a table, JSON or a PNG chart."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..exceptions import UserError
from ._case import Case, score_output
from ._store import CaseResult, ResultStore

__all__ = ["BATCH_DISCOUNT", "EvalReport", "ModelMetrics", "build_report"]

BATCH_DISCOUNT = 0.5
"""Batch API requests cost half the synchronous price (OpenAI Batch API guide, 2024-2025; not
re-checked here)."""


@dataclass
class ModelMetrics:
    """The numbers of one variant over all cases."""

    variant: str
    """Model name or configuration label."""
    model: str
    """The model the variant ran."""
    cases: int = 0
    """Cases with a result."""
    errors: int = 0
    """Runs that failed (API error, run limit, ...)."""
    tool_selection_accuracy: float | None = None
    """Share of cases with ``expected_tool_calls`` whose called tool names match, in order."""
    argument_exact_match: float | None = None
    """Share of those cases whose calls also have exactly the expected (parsed) arguments."""
    schema_valid_rate: float | None = None
    """Share of all calls made whose arguments validate against the tool's schema."""
    final_answer_score: float | None = None
    """Mean score over cases with ``expected_output``."""
    latency_p50_s: float = 0.0
    """Median run time in seconds."""
    latency_p95_s: float = 0.0
    """95th-percentile run time in seconds (nearest rank)."""
    input_tokens: int = 0
    """Prompt tokens over all cases."""
    output_tokens: int = 0
    """Completion tokens over all cases."""
    cost_usd: float | None = None
    """From ``agentkit.models`` prices (batch results at half price); ``None`` when unknown."""


@dataclass
class EvalReport:
    """Metrics per variant, and every case result."""

    metrics: dict[str, ModelMetrics]
    """By variant label, in the order given."""
    results: list[CaseResult] = field(default_factory=list)
    """Every result, scored."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "metrics": {k: asdict(v) for k, v in self.metrics.items()},
            "results": [asdict(r) for r in self.results],
        }

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def table(self) -> str:
        """A terminal table, one column per variant, then the error of every case that failed.

        Rendered with ``rich`` when it is installed (the ``evals`` extra), as plain columns
        otherwise.
        """
        header = ["metric", *self.metrics]
        rows = [
            [label, *(fmt(getattr(m, name)) for m in self.metrics.values())] for name, label, fmt in _ROWS
        ]
        text = _rich_table(header, rows) or _plain_table(header, rows)
        failed = [r for r in self.results if r.error is not None]
        if failed:
            text += f"errors ({len(failed)}):\n"
            text += "".join(
                f"  {r.variant} / {r.case_id}: {' '.join(str(r.error).split())}\n" for r in failed
            )
        return text.rstrip("\n")

    def write_png(self, path: str | os.PathLike[str]) -> None:
        """Write a bar chart of the rate metrics per variant (needs the ``charts`` extra)."""
        plt = _pyplot()
        names = [(n, label) for n, label, _ in _ROWS[:4]]
        fig, ax = plt.subplots(figsize=(8, 4))
        width = 0.8 / max(1, len(self.metrics))
        for k, (variant, m) in enumerate(self.metrics.items()):
            values = [getattr(m, n) or 0.0 for n, _ in names]
            ax.bar([i + k * width for i in range(len(names))], values, width, label=variant)
        ax.set_xticks([i + width * (len(self.metrics) - 1) / 2 for i in range(len(names))])
        ax.set_xticklabels([label for _, label in names])
        ax.set_ylim(0, 1)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, format="png")
        plt.close(fig)


def _rich_table(header: list[str], rows: list[list[str]]) -> str | None:
    """``rows`` drawn by ``rich`` as text, or ``None`` when rich is not installed."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return None
    table = Table(title="evaluation")
    table.add_column(header[0])
    for label in header[1:]:
        table.add_column(label, justify="right")
    for row in rows:
        table.add_row(*row)
    with open(os.devnull, "w") as devnull:
        console = Console(width=120, record=True, file=devnull)
        console.print(table)
        text: str = console.export_text()
    return text


def _plain_table(header: list[str], rows: list[list[str]]) -> str:
    """``rows`` as aligned columns of plain text (numbers right-aligned), for when rich is missing."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["evaluation", "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for first, *cells in rows:
        right = (c.rjust(w) for c, w in zip(cells, widths[1:], strict=True))
        lines.append("  ".join([first.ljust(widths[0]), *right]))
    return "\n".join(lines) + "\n"


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise UserError("Charts need matplotlib: pip install 'agentkit-openai[charts]'") from exc
    return plt


def _rate(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


_ROWS: list[tuple[str, str, Callable[[Any], str]]] = [
    ("tool_selection_accuracy", "tool selection", _rate),
    ("argument_exact_match", "arguments exact", _rate),
    ("schema_valid_rate", "schema-valid", _rate),
    ("final_answer_score", "final answer", _rate),
    ("latency_p50_s", "latency p50 (s)", lambda v: f"{v:.3f}"),
    ("latency_p95_s", "latency p95 (s)", lambda v: f"{v:.3f}"),
    ("input_tokens", "input tokens", str),
    ("output_tokens", "output tokens", str),
    ("cost_usd", "cost (USD)", lambda v: "-" if v is None else f"{v:.4f}"),
    ("errors", "errors", str),
]


def _parsed(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def _schemas(agent: Any) -> dict[str, Any]:
    from jsonschema import Draft202012Validator

    return {t.name: Draft202012Validator(t.parameters) for t in getattr(agent, "tools", ())}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _cost(model: str, results: list[CaseResult]) -> float | None:
    from ..models import model_info

    info = model_info(model, default=None)  # an ft: name resolves to its fine-tuned prices
    if info is None or info.input_price is None or info.output_price is None:
        return None
    cached_price = info.cached_input_price if info.cached_input_price is not None else info.input_price
    total = 0.0
    for r in results:
        cost = (r.input_tokens - r.cached_tokens) * info.input_price + r.cached_tokens * cached_price
        cost += r.output_tokens * info.output_price
        total += cost * (BATCH_DISCOUNT if r.batch else 1.0) / 1_000_000
    return total


async def build_report(agents: dict[str, Any], cases: Sequence[Case], store: ResultStore) -> EvalReport:
    """Score the stored results of these cases and sum them up per variant."""
    report = EvalReport({})
    for label, agent in agents.items():
        results = [store.results[(label, c.id)] for c in cases if store.done(label, c.id)]
        by_id = {c.id: c for c in cases}
        schemas = _schemas(agent)
        m = ModelMetrics(
            label, agent.model, cases=len(results), errors=sum(r.error is not None for r in results)
        )
        selected = exact = judged = 0
        valid = calls = 0
        scores = []
        for r in results:
            case = by_id[r.case_id]
            r.score = await score_output(case, r.output)
            if r.score is not None:
                scores.append(r.score)
            if case.expected_tool_calls is not None:
                judged += 1
                made = [(c["name"], _parsed(c["arguments"])) for c in r.tool_calls]
                wanted = [(c["name"], c.get("arguments", {})) for c in case.expected_tool_calls]
                selected += [n for n, _ in made] == [n for n, _ in wanted]
                exact += made == wanted
            for c in r.tool_calls:
                calls += 1
                checker = schemas.get(c["name"])
                args = _parsed(c["arguments"])
                valid += checker is not None and not isinstance(args, str) and checker.is_valid(args)
        if judged:
            m.tool_selection_accuracy, m.argument_exact_match = selected / judged, exact / judged
        m.schema_valid_rate = valid / calls if calls else None
        m.final_answer_score = sum(scores) / len(scores) if scores else None
        latencies = [r.latency_s for r in results if not r.batch]
        m.latency_p50_s, m.latency_p95_s = _percentile(latencies, 0.5), _percentile(latencies, 0.95)
        m.input_tokens = sum(r.input_tokens for r in results)
        m.output_tokens = sum(r.output_tokens for r in results)
        m.cost_usd = _cost(agent.model, results)
        report.metrics[label] = m
        report.results += results
    return report

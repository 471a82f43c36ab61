"""``validate``: check a training file line by line, in bounded memory, and report.

The file is read one line at a time; what is kept per example is a 8-byte digest (for
duplicates and train/validation overlap) and three integers (for the distributions), about
100 bytes per example, so a 100,000-line file is validated in a few megabytes whatever the size
of its examples.
"""

from __future__ import annotations

import hashlib
import json
import os
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..exceptions import UserError
from ._arguments import Validator, validators
from ._count import DEFAULT_MAX_TOKENS, example_tokens
from ._estimate import check_max_tokens, not_fine_tunable
from ._rules import Problem, check_example, check_preference

__all__ = ["MIN_EXAMPLES", "Distribution", "Report", "validate"]

MIN_EXAMPLES = 10
"""The API refuses a training file with fewer examples (OpenAI fine-tuning guide, "Example
count recommendations", 2023-2025; the issue restates it; not re-checked here)."""

# Problems that make token counting meaningless for the example.
_STRUCTURAL = {
    "invalid_json",
    "data_type",
    "missing_messages_list",
    "message_missing_key",
    "unrecognized_role",
    "invalid_tools",
    "invalid_tool_call",
    "arguments_not_string",
    "invalid_preference",
    "missing_content",
}


@dataclass(frozen=True)
class Distribution:
    """Summary of one number per example."""

    min: float
    max: float
    mean: float
    median: float
    p5: float
    """5th percentile (nearest rank)."""
    p95: float
    """95th percentile (nearest rank)."""

    @classmethod
    def of(cls, values: array[int]) -> Distribution:
        """Summarise ``values`` (an empty array gives all zeros)."""
        if not values:
            return cls(0, 0, 0, 0, 0, 0)
        ordered = sorted(values)
        n = len(ordered)

        def rank(q: float) -> float:
            return float(ordered[min(n - 1, max(0, round(q * (n - 1))))])

        middle = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
        return cls(ordered[0], ordered[-1], sum(ordered) / n, middle, rank(0.05), rank(0.95))


@dataclass
class Report:
    """What ``validate`` found in a training file (and its validation file)."""

    path: str
    """The training file."""
    model: str
    """The model whose tokenizer counted the tokens."""
    max_tokens: int
    """The per-example token limit applied."""
    examples: int = 0
    """Non-blank lines in the training file."""
    problems: list[Problem] = field(default_factory=list)
    """Every problem, in file order (validation-file problems after the training file's)."""
    messages: Distribution | None = None
    """Messages per example."""
    total_tokens: Distribution | None = None
    """Tokens per example (the whole conversation with tools)."""
    assistant_tokens: Distribution | None = None
    """Trained assistant tokens per example (weight 0 excluded)."""
    billable_tokens: int = 0
    """Tokens one epoch bills: each example's tokens, capped at ``max_tokens``."""
    tools_used: Counter[str] = field(default_factory=Counter)
    """How many examples call each tool."""

    @property
    def counts(self) -> dict[str, int]:
        """Problems per kind."""
        return dict(Counter(p.kind for p in self.problems))

    @property
    def errors(self) -> int:
        """How many problems are errors."""
        return sum(p.severity == "error" for p in self.problems)

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""

        def dist(d: Distribution | None) -> dict[str, float] | None:
            return None if d is None else d.__dict__.copy()

        return {
            "path": self.path,
            "model": self.model,
            "max_tokens": self.max_tokens,
            "examples": self.examples,
            "ok": self.ok,
            "errors": self.errors,
            "counts": self.counts,
            "problems": [p.__dict__.copy() for p in self.problems],
            "messages": dist(self.messages),
            "total_tokens": dist(self.total_tokens),
            "assistant_tokens": dist(self.assistant_tokens),
            "billable_tokens": self.billable_tokens,
            "tools_used": dict(self.tools_used),
        }

    def format(self, *, limit: int | None = 50) -> str:
        """A plain-text report: problems with line numbers, counts per kind, distributions."""
        lines = [f"{self.path}: {self.examples} examples, {self.errors} error(s), model {self.model}"]
        shown = self.problems if limit is None else self.problems[:limit]
        for p in shown:
            where = f"{p.file or self.path}:{p.line}" if p.line else (p.file or self.path)
            lines.append(f"  {where}: {p.severity} {p.kind}: {p.message}")
        if len(shown) < len(self.problems):
            lines.append(f"  ... {len(self.problems) - len(shown)} more (--all to list them)")
        if self.problems:
            lines.append("counts per kind:")
            lines += [f"  {kind}: {n}" for kind, n in sorted(self.counts.items())]
        for name, d in (
            ("messages", self.messages),
            ("total tokens", self.total_tokens),
            ("assistant tokens", self.assistant_tokens),
        ):
            if d is not None:
                lines.append(
                    f"{name} per example: min {d.min:g} / max {d.max:g}, mean {d.mean:.1f} / "
                    f"median {d.median:g}, p5 {d.p5:g} / p95 {d.p95:g}"
                )
        lines.append(f"billable tokens per epoch: {self.billable_tokens}")
        return "\n".join(lines)


def _lines(path: Path) -> Iterator[tuple[int, bytes, int]]:
    """Yield ``(line number, raw line, bytes read so far)`` for each non-blank line."""
    with path.open("rb") as f:
        done = 0
        for number, raw in enumerate(f, 1):
            done += len(raw)
            if raw.strip():
                yield number, raw, done


def _digest(raw: bytes) -> bytes:
    # Byte-identical lines (after trimming): what one exporter writes twice, without a re-encode.
    return hashlib.blake2b(raw.strip(), digest_size=8).digest()


@dataclass
class _Scan:
    """One pass over one file, adding to the report."""

    report: Report
    validator: Callable[[Any], Validator]
    seen: set[bytes]
    """Digests of the examples read so far in this file."""
    other: set[bytes] | None
    """Digests of the training file, when this is the validation file."""
    label: str
    """The file name for problems, ``""`` for the training file."""
    lengths: array[int] = field(default_factory=lambda: array("l"))
    totals: array[int] = field(default_factory=lambda: array("l"))
    trained: array[int] = field(default_factory=lambda: array("l"))

    @property
    def stats(self) -> bool:
        return not self.label

    def line(self, line: int, raw: bytes) -> None:
        try:
            example = json.loads(raw)
        except ValueError as exc:
            self.report.problems.append(Problem(line, "invalid_json", str(exc), file=self.label))
            return
        preference = isinstance(example, dict) and "input" in example and "messages" not in example
        found = (check_preference if preference else check_example)(example, line, self.validator)
        if isinstance(example, dict):
            found += self._repeats(raw, line)
        if not any(p.kind in _STRUCTURAL for p in found):
            found += self._tokens(example, preference, line)
        self.report.problems.extend(replace(p, file=self.label) if self.label else p for p in found)

    def _repeats(self, raw: bytes, line: int) -> list[Problem]:
        found = []
        digest = _digest(raw)
        if digest in self.seen:
            found.append(Problem(line, "duplicate_example", "the same example appears earlier", "warning"))
        self.seen.add(digest)
        if self.other is not None and digest in self.other:
            found.append(
                Problem(line, "train_validation_overlap", "this example is also in the training file")
            )
        return found

    def _tokens(self, example: dict[str, Any], preference: bool, line: int) -> list[Problem]:
        report = self.report
        try:
            total, assistant = example_tokens(example, report.model)
        except UserError as exc:  # an image or audio part; the model itself was checked up front
            return [Problem(line, "tokens_not_counted", str(exc), "warning")]
        if self.stats:
            messages = example["input"]["messages"] if preference else example["messages"]
            self.lengths.append(len(messages))
            self.totals.append(total)
            self.trained.append(assistant)
            report.billable_tokens += min(total, report.max_tokens)
            used = {
                tc["function"]["name"]
                for m in messages
                if m.get("role") == "assistant"
                for tc in m.get("tool_calls") or ()
            }
            report.tools_used.update(used)
        if total > report.max_tokens:
            return [Problem(line, "too_many_tokens", f"{total} tokens > limit {report.max_tokens}")]
        return []

    def run(self, path: Path, tick: Callable[[int], None]) -> int:
        count = 0
        for line, raw, done in _lines(path):
            count += 1
            if count % 256 == 0:
                tick(done)
            self.line(line, raw)
        tick(path.stat().st_size)
        if self.stats:
            self.report.messages = Distribution.of(self.lengths)
            self.report.total_tokens = Distribution.of(self.totals)
            self.report.assistant_tokens = Distribution.of(self.trained)
        return count


def validate(
    path: str | os.PathLike[str],
    *,
    model: str = "gpt-4o-mini",
    max_tokens: int = DEFAULT_MAX_TOKENS,
    validation_file: str | os.PathLike[str] | None = None,
    min_examples: int = MIN_EXAMPLES,
    progress: bool = False,
) -> Report:
    """Check a supervised or DPO training file and return a report; nothing is raised for bad data.

    Args:
        path: A JSONL file, one example per line (blank lines are skipped).
        model: The model to fine-tune: its tokenizer counts the tokens.
        max_tokens: Tokens allowed per example; a longer example is an error, since training
            would silently truncate it.
        validation_file: A validation JSONL checked with the same rules, plus: no example in both.
        min_examples: Fewer training examples than this is an error.
        progress: Show a progress bar on stderr (needs ``rich``: the ``finetune`` extra).

    A model the table knows but cannot fine-tune (``supports_fine_tuning`` is False, as for
    ``gpt-5``) is reported as a ``model_not_fine_tunable`` error; the rest of the file is still
    checked with its tokenizer.

    Raises:
        UserError: A file does not exist, or ``max_tokens`` is not a positive integer.
        UnknownModelError: The model table does not know the model (nor its tokenizer).
    """
    check_max_tokens(max_tokens)
    files = [Path(path)] + ([Path(validation_file)] if validation_file is not None else [])
    for f in files:
        if not f.is_file():
            raise UserError(f"No such training file: {f}")
    from ..tokens import count_tokens

    count_tokens([], model=model)  # an unknown model or tokenizer fails here, not on every line
    report = Report(str(path), model, max_tokens)
    reason = not_fine_tunable(model)
    if reason is not None:
        report.problems.append(Problem(0, "model_not_fine_tunable", reason))
    validator = validators()
    total_bytes = sum(f.stat().st_size for f in files)
    with _progress(progress, total_bytes) as advance:
        offset = 0
        train: set[bytes] = set()

        def tick(done: int) -> None:
            advance(offset + done)

        report.examples = _Scan(report, validator, train, None, "").run(files[0], tick)
        if len(files) > 1:
            offset = files[0].stat().st_size
            _Scan(report, validator, set(), train, str(files[1])).run(files[1], tick)
    if report.examples < min_examples:
        report.problems.append(
            Problem(
                0, "too_few_examples", f"{report.examples} examples; at least {min_examples} are required"
            )
        )
    return report


class _progress:
    """A rich progress bar over bytes read, or nothing."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total
        self.bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda done: None
        try:
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
        except ImportError as exc:
            raise UserError("The progress bar needs rich: pip install 'agentkit-openai[finetune]'") from exc
        from rich.console import Console

        self.bar = Progress(
            "validating",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.bar.start()
        task = self.bar.add_task("validate", total=self.total)
        bar = self.bar
        return lambda done: bar.update(task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

"""``Case``: one held-out input with what a good run does, and how to score its answer."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..exceptions import UserError

__all__ = ["Case", "Scorer", "load_cases", "score_output"]

Scorer = Callable[[str, str], float | bool | Awaitable[float | bool]]
"""A custom scorer ``(output, expected_output) -> score`` in 0..1 (or a bool); may be async."""


@dataclass(frozen=True)
class Case:
    """One evaluation case (one line of ``CASES.jsonl``)."""

    input: str | list[dict[str, Any]]
    """The user's message, or a list of messages to start the run with."""
    expected_tool_calls: list[dict[str, Any]] | None = None
    """The calls a good run makes, in order: ``[{"name": ..., "arguments": {...}}]``; ``None``
    when the case does not judge tool use, ``[]`` when no tool should be called."""
    expected_output: str | None = None
    """The reference final answer, or ``None`` when the answer is not scored."""
    match: Literal["exact", "contains"] | Scorer = "exact"
    """``"exact"`` (equal after stripping whitespace), ``"contains"`` (the expected text appears,
    case-insensitively) or a custom scorer."""
    id: str = ""
    """A stable id (results are resumed by it); derived from the content when empty."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Anything else from the line, kept for reports."""

    def __post_init__(self) -> None:
        if not isinstance(self.input, (str, list)):
            raise UserError(
                f"Case input must be a string or a list of messages, not {type(self.input).__name__}."
            )
        if self.match not in ("exact", "contains") and not callable(self.match):
            raise UserError(f"Case match must be 'exact', 'contains' or a callable, not {self.match!r}.")
        for call in self.expected_tool_calls or ():
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise UserError(f"expected_tool_calls entries need a 'name': {call!r}")
        if not self.id:
            text = json.dumps([self.input, self.expected_tool_calls, self.expected_output], sort_keys=True)
            object.__setattr__(self, "id", hashlib.sha1(text.encode()).hexdigest()[:12])


async def score_output(case: Case, output: str | None) -> float | None:
    """The final-answer score in 0..1, or ``None`` when the case has no ``expected_output``."""
    if case.expected_output is None:
        return None
    if output is None:
        return 0.0
    if case.match == "exact":
        return float(output.strip() == case.expected_output.strip())
    if case.match == "contains":
        return float(case.expected_output.casefold() in output.casefold())
    value = case.match(output, case.expected_output)
    if inspect.isawaitable(value):
        value = await value
    return float(value)


_KEYS = {"input", "expected_tool_calls", "expected_output", "match", "id"}


def load_cases(path: str | os.PathLike[str], *, scorers: dict[str, Scorer] | None = None) -> list[Case]:
    """Read ``CASES.jsonl``: one object per line with ``input`` and the optional ``Case`` fields.

    Args:
        path: The file.
        scorers: Custom scorers by name, for lines whose ``match`` is another name.

    Raises:
        UserError: The file is missing, or a line is not a valid case (the line number is given).
    """
    file = Path(path)
    if not file.is_file():
        raise UserError(f"No such cases file: {file}")
    cases = []
    with file.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict) or "input" not in data:
                    raise UserError("a case is an object with an 'input'")
                match = data.get("match", "exact")
                if match not in ("exact", "contains"):
                    if not scorers or match not in scorers:
                        raise UserError(f"unknown match {match!r}")
                    match = scorers[match]
                extra = {k: v for k, v in data.items() if k not in _KEYS}
                cases.append(
                    Case(
                        data["input"],
                        data.get("expected_tool_calls"),
                        data.get("expected_output"),
                        match,
                        str(data.get("id") or ""),
                        extra,
                    )
                )
            except (ValueError, UserError) as exc:
                raise UserError(f"{file}:{number}: {exc}") from exc
    return cases

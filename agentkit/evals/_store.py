"""Results stored as they finish (one JSONL line per case and variant), so a run can resume."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import UserError

__all__ = ["CaseResult", "ResultStore"]


@dataclass
class CaseResult:
    """What one variant did on one case."""

    variant: str
    """The model name or configuration label."""
    case_id: str
    """``Case.id``."""
    output: str | None = None
    """The final answer text (``None`` when the run failed or stopped at a tool call)."""
    tool_calls: list[dict[str, str]] = field(default_factory=list)
    """Calls made, in order: ``{"name", "arguments"}`` with the raw JSON string."""
    latency_s: float = 0.0
    """Wall time of the run, in seconds."""
    input_tokens: int = 0
    """Prompt tokens over the run."""
    output_tokens: int = 0
    """Completion tokens over the run."""
    cached_tokens: int = 0
    """Prompt tokens served from cache."""
    error: str | None = None
    """``"ExceptionName: message"`` when the run failed."""
    batch: bool = False
    """Produced by the Batch API (billed at half price)."""
    score: float | None = None
    """The final-answer score, filled when the report is built."""

    def to_json(self) -> str:
        """One JSONL line."""
        return json.dumps(asdict(self), ensure_ascii=False)


class ResultStore:
    """An append-only JSONL file of ``CaseResult`` lines (or memory only when ``path`` is None)."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self.results: dict[tuple[str, str], CaseResult] = {}
        if self.path is not None and self.path.exists():
            with self.path.open(encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        data: dict[str, Any] = json.loads(line)
                        result = CaseResult(**data)
                    except (ValueError, TypeError) as exc:
                        # A line cut by a crash mid-write is the only expected damage: the last one.
                        raise UserError(f"{self.path}:{number} is not a stored result ({exc}).") from exc
                    self.results[(result.variant, result.case_id)] = result

    def done(self, variant: str, case_id: str) -> bool:
        """Whether this case already has a result for this variant."""
        return (variant, case_id) in self.results

    def add(self, result: CaseResult) -> None:
        """Keep ``result`` and append it to the file at once (flushed)."""
        self.results[(result.variant, result.case_id)] = result
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(result.to_json() + "\n")

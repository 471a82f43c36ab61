"""The scripted model's answer to ``POST /moderations`` (``client.moderations.create``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
"""The categories of ``omni-moderation-latest`` (OpenAI API reference, "The moderation object",
read 2026-11-29)."""

Flagger = Callable[[str], Sequence[str]]
"""``text -> categories to flag`` (empty: the text passes)."""


def moderation_json(body: dict[str, Any], flag: Flagger | None, number: int) -> dict[str, Any]:
    """Build the moderation response for a request body: one result per input text."""
    raw = body.get("input", "")
    texts = [raw] if isinstance(raw, str) else [str(part.get("text", "")) for part in raw or ()]
    results = []
    for text in texts:
        flagged = set(flag(text)) if flag is not None else set()
        unknown = flagged - set(CATEGORIES)
        if unknown:
            raise AssertionError(f"ScriptedModel: unknown moderation categories {sorted(unknown)}")
        results.append(
            {
                "flagged": bool(flagged),
                "categories": {c: c in flagged for c in CATEGORIES},
                "category_scores": {c: 0.99 if c in flagged else 0.0001 for c in CATEGORIES},
                "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
            }
        )
    return {"id": f"modr-scripted{number}", "model": body.get("model", ""), "results": results}

"""An LLM judge as a scorer: another agent grades the answer against the reference."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["llm_judge"]

_PROMPT = (
    "Grade the ANSWER against the REFERENCE. Reply with one number between 0 and 1 "
    "(1 = fully correct and complete, 0 = wrong), nothing else.\n\n"
    "REFERENCE:\n{expected}\n\nANSWER:\n{output}"
)


def llm_judge(judge: Any) -> Callable[[str, str], Awaitable[float]]:
    """Return an async scorer for ``Case.match`` that asks ``judge`` (an ``Agent``) for a grade.

    A reply without a number in 0..1 scores 0 (and is not retried): the judge's own errors
    are visible as low scores rather than hidden.
    """

    async def score(output: str, expected: str) -> float:
        result = await judge.run(_PROMPT.format(expected=expected, output=output))
        match = re.search(r"\d+(?:\.\d+)?", str(result.output))
        value = float(match.group()) if match else 0.0
        return value if 0.0 <= value <= 1.0 else 0.0

    return score

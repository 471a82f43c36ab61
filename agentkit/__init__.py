"""agentkit: function-calling agents on the OpenAI API and any OpenAI-compatible server."""

from __future__ import annotations

from ._context import RunContext
from ._result import RunResult, Usage
from .exceptions import AgentkitError, ToolRetry

__all__ = [
    "AgentkitError",
    "RunContext",
    "RunResult",
    "ToolRetry",
    "Usage",
]

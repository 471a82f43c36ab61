"""agentkit: function-calling agents on the OpenAI API and any OpenAI-compatible server."""

from __future__ import annotations

from ._agent import Agent
from ._context import RunContext
from ._limits import RateLimiter, UsageLimits
from ._result import RunResult, ToolCall, Usage
from ._tool import Tool, tool
from .exceptions import AgentkitError, ToolRetry

__all__ = [
    "Agent",
    "AgentkitError",
    "RateLimiter",
    "RunContext",
    "RunResult",
    "Tool",
    "ToolCall",
    "ToolRetry",
    "Usage",
    "UsageLimits",
    "tool",
]

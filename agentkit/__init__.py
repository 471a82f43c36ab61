"""agentkit: function-calling agents on the OpenAI API and any OpenAI-compatible server."""

from __future__ import annotations

from ._agent import Agent
from ._context import RunContext
from ._limits import RateLimiter, UsageLimits
from ._result import PendingToolCall, RunResult, ToolCall, ToolDecision, Usage
from ._tool import Tool, client_tool, tool
from .exceptions import AgentkitError, ToolRetry

__all__ = [
    "Agent",
    "AgentkitError",
    "PendingToolCall",
    "RateLimiter",
    "RunContext",
    "RunResult",
    "Tool",
    "ToolCall",
    "ToolDecision",
    "ToolRetry",
    "Usage",
    "UsageLimits",
    "client_tool",
    "tool",
]

"""The events ``Agent.run_stream`` yields."""

from ._events import (
    FinalResult,
    RunPaused,
    StreamEvent,
    SubAgentEvent,
    TextDelta,
    ToolCallResult,
    ToolCallStarted,
    TurnFinished,
)

__all__ = [
    "FinalResult",
    "RunPaused",
    "StreamEvent",
    "SubAgentEvent",
    "TextDelta",
    "ToolCallResult",
    "ToolCallStarted",
    "TurnFinished",
]

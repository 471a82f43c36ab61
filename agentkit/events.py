"""The events ``Agent.run_stream`` yields."""

from ._events import (
    FinalResult,
    RunPaused,
    StreamEvent,
    TextDelta,
    ToolCallResult,
    ToolCallStarted,
    TurnFinished,
)

__all__ = [
    "FinalResult",
    "RunPaused",
    "StreamEvent",
    "TextDelta",
    "ToolCallResult",
    "ToolCallStarted",
    "TurnFinished",
]

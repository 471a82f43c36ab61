"""The events ``Agent.run_stream`` yields."""

from ._events import FinalResult, StreamEvent, TextDelta, ToolCallResult, ToolCallStarted, TurnFinished

__all__ = ["FinalResult", "StreamEvent", "TextDelta", "ToolCallResult", "ToolCallStarted", "TurnFinished"]

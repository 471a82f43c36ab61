"""A reply that is not a real final answer is never returned as one.

Checked right after each reply, before any of its tool calls runs:

==========================  =========================================================
the reply                   outcome
==========================  =========================================================
cut off (``length``)        ``OutputTruncatedError``; its calls get "not run" results;
                            text only: returned when ``allow_truncated_output``
content filter              ``ContentFilterError``; its calls get "not run" results
a refusal, no tool calls    ``ModelRefusalError`` (never retried)
no text, no tool calls      ``EmptyResponseError`` (never retried)
==========================  =========================================================
"""

from __future__ import annotations

from .._wire import ModelTurn
from ..exceptions import (
    ContentFilterError,
    EmptyResponseError,
    ModelRefusalError,
    OutputTruncatedError,
    RunError,
)

NOT_RUN_TRUNCATED = "Error: not run: the arguments were cut off by the output token limit."
NOT_RUN_FILTERED = "Error: not run: the reply was stopped by the content filter."


def reply_problem(reply: ModelTurn, allow_truncated_output: bool) -> tuple[type[RunError], str, str] | None:
    """Return ``(error class, message, result text for each of its calls)`` or ``None`` if usable."""
    if reply.finish_reason == "length" and (reply.tool_calls or not allow_truncated_output):
        what = "a tool call's arguments" if reply.tool_calls else "the answer"
        return (
            OutputTruncatedError,
            f"The reply was cut off by the output token limit ({what} is incomplete); raise "
            "max_tokens / max_output_tokens, or pass allow_truncated_output=True for text.",
            NOT_RUN_TRUNCATED,
        )
    if reply.finish_reason == "content_filter":
        return ContentFilterError, "The reply was stopped by the content filter.", NOT_RUN_FILTERED
    if reply.tool_calls:
        return None
    if reply.refusal:
        return ModelRefusalError, f"The model refused: {reply.refusal}", ""
    if not reply.text:
        return EmptyResponseError, "The reply has no text and no tool calls.", ""
    return None

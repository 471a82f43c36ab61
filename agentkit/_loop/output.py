"""The final answer: plain text, or an ``output_type`` instance validated with one retry."""

from __future__ import annotations

from typing import Any

import pydantic

from .._wire import ModelTurn


class OutputMismatch(ValueError):
    """The final answer does not fit ``output_type``; the message says why."""


def parse_output(output_type: type[Any] | None, reply: ModelTurn) -> Any:
    """Return the run's output from a reply without tool calls.

    Raises:
        OutputMismatch: The reply is a refusal or does not validate against ``output_type``.
    """
    if output_type is None:
        return reply.text or ""
    if reply.refusal:
        raise OutputMismatch(f"the model refused: {reply.refusal}")
    try:
        return output_type.model_validate_json(reply.text or "")
    except pydantic.ValidationError as exc:
        raise OutputMismatch(str(exc)) from exc


def retry_prompt(error: OutputMismatch) -> str:
    """The user message that asks the model for a second, valid answer."""
    return f"Your answer does not match the required schema: {error}\nAnswer again."

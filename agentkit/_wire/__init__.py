"""The two wire formats the loop speaks: Chat Completions and Responses.

Each backend turns the loop's history into a request, and a reply (whole or streamed) into a
``ModelTurn``. History items are kept in the API's own wire format, so ``RunResult.messages``
can be passed straight back to the same API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from .._result import ToolCall, Usage

if TYPE_CHECKING:
    from openai import AsyncOpenAI

MAX_TOOLS = 128
"""The most tools one request may carry (the API rejects more; OpenAI API reference, ``tools``)."""


@dataclass
class ModelTurn:
    """One model reply, reduced to what the loop needs."""

    text: str | None
    """The assistant's text, if any (it may come along with tool calls)."""
    tool_calls: list[ToolCall]
    """Function calls in the model's order; empty for a final answer."""
    items: list[dict[str, Any]]
    """What to append to the history (the assistant message, or the Responses output items)."""
    usage: Usage = field(default_factory=Usage)
    """This request's usage."""
    refusal: str | None = None
    """A refusal message, when the model refused."""
    finish_reason: str | None = None
    """Why the reply ended, in Chat Completions terms: ``"stop"``, ``"tool_calls"``, ``"length"``
    or ``"content_filter"`` (a Responses status is mapped to these)."""


@dataclass(frozen=True)
class Request:
    """Everything one model request needs besides the history."""

    model: str
    instructions: str | None
    tool_params: Sequence[dict[str, Any]]
    """The tools in this API's format (built once per agent)."""
    settings: dict[str, Any]
    tool_choice: Any
    parallel_tool_calls: bool | None
    output_schema: tuple[str, dict[str, Any]] | None
    """``(name, strict JSON schema)`` for a structured final output."""

    @cached_property
    def common(self) -> dict[str, Any]:
        """The parameters both APIs send alike, built once per agent (copy before changing)."""
        params = dict(self.settings)
        params["model"] = self.model
        if self.tool_params:
            params["tools"] = self.tool_params
            if self.tool_choice is not None:
                params["tool_choice"] = self.tool_choice
            if self.parallel_tool_calls is not None:
                params["parallel_tool_calls"] = self.parallel_tool_calls
        return params


class ModelAPI(Protocol):
    """One wire format (``"chat"`` or ``"responses"``)."""

    def user_item(self, text: str) -> dict[str, Any]:
        """The history item for a user message."""
        ...

    def tool_result_item(self, call: ToolCall, content: str) -> dict[str, Any]:
        """The history item carrying one tool call's result."""
        ...

    async def complete(
        self, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]]
    ) -> ModelTurn:
        """Send one request and return the whole reply."""
        ...

    def stream(
        self, client: AsyncOpenAI, request: Request, history: list[dict[str, Any]]
    ) -> AsyncIterator[str | ModelTurn]:
        """Send one streaming request; yield text fragments, then the assembled ``ModelTurn`` last."""
        ...

    def tool_calls_in(self, item: dict[str, Any]) -> list[ToolCall]:
        """The tool calls an item of history carries (for session repair)."""
        ...

    def result_call_id(self, item: dict[str, Any]) -> str | None:
        """The call id an item of history answers, if it is a tool result."""
        ...


def usage_from(raw: dict[str, Any] | None, input_name: str, output_name: str) -> Usage:
    """Read one request's usage block; the names are ``"prompt"``/``"completion"`` on Chat
    Completions and ``"input"``/``"output"`` on Responses."""
    if not raw:
        return Usage(requests=1)
    input_details = raw.get(f"{input_name}_tokens_details") or {}
    output_details = raw.get(f"{output_name}_tokens_details") or {}
    return Usage(
        requests=1,
        input_tokens=raw.get(f"{input_name}_tokens") or 0,
        output_tokens=raw.get(f"{output_name}_tokens") or 0,
        total_tokens=raw.get("total_tokens") or 0,
        cached_tokens=input_details.get("cached_tokens") or 0,
        reasoning_tokens=output_details.get("reasoning_tokens") or 0,
    )

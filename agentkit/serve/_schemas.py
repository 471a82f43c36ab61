"""Request bodies, validated with pydantic; sizes follow the Assistants API's documented limits.

Limits from the Assistants API reference (platform.openai.com/docs/api-reference/assistants,
read 2025-06): name 256 chars, description 512, instructions 256,000, 128 tools, metadata 16
pairs with keys up to 64 and values up to 512 chars.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ..exceptions import ServeError

MAX_TEXT = 256_000
"""Characters in instructions or one message."""

Metadata = Annotated[
    dict[Annotated[str, StringConstraints(max_length=64)], Annotated[str, StringConstraints(max_length=512)]],
    Field(max_length=16),
]
Name = Annotated[str, StringConstraints(max_length=256)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
UNSUPPORTED_TOOLS = ("code_interpreter", "file_search")


class _Body(BaseModel):
    # Unknown fields are refused, like the API does ("Unrecognized request argument").
    model_config = ConfigDict(extra="forbid")


class FunctionDef(_Body):
    """``{"name", "description", "parameters", "strict"}`` of a function tool."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    description: Annotated[str, StringConstraints(max_length=8192)] | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolSpec(_Body):
    """One entry of ``tools``; only ``function`` tools are served."""

    type: str
    function: FunctionDef | None = None

    @field_validator("type")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value in UNSUPPORTED_TOOLS:
            raise ValueError(f"the {value} tool is not supported by agentkit; serve a function tool instead")
        if value != "function":
            raise ValueError(f"unknown tool type {value!r}; only 'function' tools are supported")
        return value


class AssistantCreate(_Body):
    """``POST /v1/assistants``."""

    model: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=512)] | None = None
    instructions: Text | None = None
    tools: Annotated[list[ToolSpec], Field(max_length=128)] = []
    metadata: Metadata | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    response_format: Literal["auto"] | dict[str, Any] | None = None
    tool_resources: dict[str, Any] | None = None
    reasoning_effort: str | None = None


class AssistantUpdate(AssistantCreate):
    """``POST /v1/assistants/{id}``: every field optional."""

    model: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None  # type: ignore[assignment]


class TextPart(_Body):
    """``{"type": "text", "text": "..."}``."""

    type: Literal["text"]
    text: Text


class MessageCreate(_Body):
    """``POST /v1/threads/{id}/messages`` (and the items of ``messages`` / ``additional_messages``)."""

    role: Literal["user", "assistant"]
    content: Text | Annotated[list[TextPart], Field(min_length=1, max_length=64)]
    attachments: list[Any] | None = None
    metadata: Metadata | None = None

    @field_validator("attachments")
    @classmethod
    def _no_attachments(cls, value: list[Any] | None) -> list[Any] | None:
        if value:
            raise ValueError("attachments (files) are not supported by agentkit")
        return value

    def text(self) -> str:
        """The message's text, parts joined by newlines."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content)


class ThreadCreate(_Body):
    """``POST /v1/threads``."""

    messages: Annotated[list[MessageCreate], Field(max_length=32)] = []
    metadata: Metadata | None = None
    tool_resources: dict[str, Any] | None = None


class ThreadUpdate(_Body):
    """``POST /v1/threads/{id}``."""

    metadata: Metadata | None = None
    tool_resources: dict[str, Any] | None = None


class RunCreate(_Body):
    """``POST /v1/threads/{id}/runs``."""

    assistant_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    model: Annotated[str, StringConstraints(max_length=256)] | None = None
    instructions: Text | None = None
    additional_instructions: Text | None = None
    additional_messages: Annotated[list[MessageCreate], Field(max_length=32)] | None = None
    tools: Annotated[list[ToolSpec], Field(max_length=128)] | None = None
    metadata: Metadata | None = None
    stream: bool | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    max_prompt_tokens: None = None
    truncation_strategy: dict[str, Any] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: Literal["auto"] | dict[str, Any] | None = None
    reasoning_effort: str | None = None


class ToolOutput(_Body):
    """One item of ``submit_tool_outputs``."""

    tool_call_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    output: Text


class SubmitToolOutputs(_Body):
    """``POST /v1/threads/{id}/runs/{id}/submit_tool_outputs``."""

    tool_outputs: Annotated[list[ToolOutput], Field(min_length=1, max_length=128)]
    stream: bool | None = None


class NativeRun(_Body):
    """``POST /agentkit/threads/{id}/runs``: one user message in, the agent's events out."""

    assistant_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    input: Text | None = None
    stream: bool = True


class Decision(_Body):
    """``POST /agentkit/runs/{id}/approve`` or ``/deny``: bound to the call id and its arguments."""

    tool_call_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    arguments: Text
    reason: Annotated[str, StringConstraints(max_length=4096)] = "Denied by the user."


def validation_error(exc: Any) -> ServeError:
    """The 400 for a pydantic ``ValidationError``: the first error, with its field as ``param``."""
    first = exc.errors(include_url=False)[0]
    param = ".".join(str(p) for p in first["loc"]) or None
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {param}"
    code = "unsupported_tool" if "not supported by agentkit" in message and "tool" in message else None
    return ServeError(
        f"{message} ({param})" if param and param not in message else message, param=param, code=code
    )

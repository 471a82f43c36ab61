"""Every error agentkit raises, under one base class.

Errors raised by the ``openai`` SDK (``openai.APIStatusError`` and its subclasses,
``openai.APIConnectionError``, ``openai.APITimeoutError``) pass through unwrapped: they already
carry ``status_code``, ``request_id`` and ``body``.

The tree::

    AgentkitError
    ├── UserError                      the library was used wrongly; fix the code
    │   ├── ToolDefinitionError        a function cannot become a tool (raised at decoration)
    │   ├── ConfigurationError         missing API key, bad agent option, too many tools
    │   ├── UnknownModelError          a model name the model table does not know (``agentkit.models``)
    │   ├── SyncInAsyncError           run_sync() called inside a running event loop
    │   └── ToolDecisionError          decisions that do not match a paused run's pending calls
    ├── ToolArgumentsError             the model's arguments do not fit the tool's schema
    ├── RunError                       a run stopped early; carries the partial transcript
    │   ├── MaxTurnsExceeded
    │   ├── ToolBudgetExceeded         too many failed tool calls in one run
    │   ├── RunTimeout                 the whole-run deadline passed
    │   ├── OutputValidationError      the final answer does not fit ``output_type``
    │   ├── ModelBehaviorError         the reply cannot be used (no choices, a failed response)
    │   │   ├── OutputTruncatedError   the reply was cut off by the token limit
    │   │   ├── ContentFilterError     the reply was withheld by the content filter
    │   │   ├── ModelRefusalError      the model refused to answer
    │   │   └── EmptyResponseError     the reply has neither text nor tool calls
    │   ├── StreamInterruptedError     a streamed reply broke off or sent an unreadable event
    │   ├── UsageLimitExceeded         a run budget (``UsageLimits``) was reached
    │   ├── ContextWindowExceeded      the history does not fit the model's context window
    │   ├── ToolExecutionError         a tool raised and the agent re-raises tool errors
    │   └── GuardrailTripped           an input or output guardrail stopped the run
    ├── CassetteError                  record/replay (``agentkit.testing``)
    │   ├── CassetteNotFoundError
    │   ├── RequestMismatchError       a request drifted from the recording
    │   ├── UnplayedInteractionsError  recorded interactions were never requested
    │   └── NetworkBlockedError        a test tried to reach the network
    ├── SessionError                   persisted threads (``agentkit.sessions``)
    │   ├── SessionBusyError           another run holds this thread
    │   ├── SessionCorruptError        a stored row cannot be read
    │   └── SessionSchemaError         the store has an unknown schema version
    ├── DurableError                   durable runs (``agentkit.durable``)
    │   ├── DurableVersionError        a run recorded by another version of the agent
    │   └── DurableReplayError         a recorded step does not fit the run being replayed
    ├── ServeError                     an HTTP request to the service failed (``agentkit.serve``);
    │                                  carries ``status_code`` and OpenAI's error fields
    ├── EmbeddingError                 embeddings (``agentkit.embeddings``): a bad reply from the server
    │   └── EmbeddingInputError        an empty or over-long text, caught before sending
    ├── VectorStoreError               vector stores (``agentkit.embeddings``)
    │   ├── StoreClosedError           the store was closed
    │   ├── DimensionMismatchError     a vector of the wrong length
    │   └── EmbeddingModelMismatchError the store was built with another embedding model
    └── MCPServerError                 an MCP server cannot be started, reached, or went away

``MissingDescriptionWarning`` (a ``UserWarning``) is issued at decoration when a tool parameter has
no description.

``ToolRetry`` is not an error of the library: tool code raises it to tell the model to try again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._result import Usage

__all__ = [
    "AgentkitError",
    "CassetteError",
    "CassetteNotFoundError",
    "ConfigurationError",
    "ContentFilterError",
    "ContextWindowExceeded",
    "DimensionMismatchError",
    "DurableError",
    "DurableReplayError",
    "DurableVersionError",
    "EmbeddingError",
    "EmbeddingInputError",
    "EmbeddingModelMismatchError",
    "EmptyResponseError",
    "FieldError",
    "GuardrailTripped",
    "MCPServerError",
    "MaxTurnsExceeded",
    "MissingDescriptionWarning",
    "ModelBehaviorError",
    "ModelRefusalError",
    "NetworkBlockedError",
    "OutputTruncatedError",
    "OutputValidationError",
    "RequestMismatchError",
    "RunError",
    "RunTimeout",
    "ServeError",
    "SessionBusyError",
    "SessionCorruptError",
    "SessionError",
    "SessionSchemaError",
    "StoreClosedError",
    "StreamInterruptedError",
    "SyncInAsyncError",
    "ToolArgumentsError",
    "ToolBudgetExceeded",
    "ToolDecisionError",
    "ToolDefinitionError",
    "ToolExecutionError",
    "ToolRetry",
    "UnknownModelError",
    "UnplayedInteractionsError",
    "UsageLimitExceeded",
    "UserError",
    "VectorStoreError",
]


class AgentkitError(Exception):
    """Base class of every error agentkit raises."""


class UserError(AgentkitError):
    """The library was used in a way it does not support."""


class ToolDefinitionError(UserError):
    """A function cannot be turned into a tool; the message says what to change."""


class ConfigurationError(UserError):
    """An agent or client option is missing or invalid."""


class UnknownModelError(UserError):
    """The model table has no entry for this name; register one with ``agentkit.models.register_model``."""

    def __init__(self, model: str, *, known: list[str]) -> None:
        self.model = model
        """The name that was looked up."""
        self.known = known
        """The names the table does know, sorted."""
        super().__init__(
            f"Unknown model {model!r}: not in agentkit's model table. Register it with "
            "agentkit.models.register_model(ModelInfo(...)), or pass default= to model_info(). "
            f"Known: {', '.join(known)}"
        )


class SyncInAsyncError(UserError):
    """A ``*_sync`` method was called from inside a running event loop."""


class ToolDecisionError(UserError):
    """The ``decisions=`` given do not fit the paused run: a decision names no pending call,
    was taken on other arguments, does not fit the call's kind, or a pending call has none.

    Raised before anything is run or sent; the thread is unchanged and the same pending calls
    can be decided again.
    """


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a tool's arguments."""

    path: str
    """Dotted path to the field, e.g. ``"address.zip"`` or ``"items.2"``; ``""`` for the whole object."""
    message: str
    """What was wrong and what was expected."""

    def __str__(self) -> str:
        return f"{self.path or '<arguments>'}: {self.message}"


class ToolArgumentsError(AgentkitError):
    """The model's arguments for a tool are not valid JSON or do not fit its schema."""

    def __init__(self, tool_name: str, errors: list[FieldError]) -> None:
        self.tool_name = tool_name
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"Invalid arguments for tool {tool_name!r}:\n{lines}")


class RunError(AgentkitError):
    """A run stopped before a final answer. Nothing is lost: the transcript so far is attached."""

    def __init__(self, message: str, *, messages: list[dict[str, Any]], usage: Usage) -> None:
        super().__init__(message)
        self.messages = messages
        """The whole conversation up to the failure, in the API's wire format."""
        self.usage = usage
        """Tokens and requests spent before the failure."""


class MaxTurnsExceeded(RunError):
    """The model kept asking for tools for more than ``max_turns`` turns."""


class ToolBudgetExceeded(RunError):
    """Too many failed tool calls (per tool or per run): the model is not recovering."""


class RunTimeout(RunError):
    """The run's deadline passed."""


class OutputValidationError(RunError):
    """The final answer did not validate against ``output_type``, even after one retry."""


class ModelBehaviorError(RunError):
    """The model's reply cannot be used: no choices, or a response with status ``failed``."""


class OutputTruncatedError(ModelBehaviorError):
    """The reply hit the output token limit (``finish_reason: "length"``, or a Responses
    ``status: "incomplete"`` for ``max_output_tokens``). Tool calls of such a reply are never run;
    each gets a "not run" result in ``messages``. ``Agent(allow_truncated_output=True)`` returns
    truncated *text* instead, with ``RunResult.finish_reason == "length"``."""


class ContentFilterError(ModelBehaviorError):
    """The reply was stopped by the provider's content filter (``finish_reason: "content_filter"``)."""


class ModelRefusalError(ModelBehaviorError):
    """The model refused (a ``refusal`` instead of an answer); it is not retried."""


class EmptyResponseError(ModelBehaviorError):
    """The reply has no text, no tool calls and no refusal; it is not retried."""


class StreamInterruptedError(RunError):
    """A streamed reply ended early (no ``finish_reason`` or final event), sent an event that is not
    JSON, or its connection broke. Nothing of the broken turn is kept in ``messages``."""


class UsageLimitExceeded(RunError):
    """A run budget in ``Agent(usage_limits=UsageLimits(...))`` was reached."""

    def __init__(self, message: str, *, limit: str, messages: list[dict[str, Any]], usage: Usage) -> None:
        super().__init__(message, messages=messages, usage=usage)
        self.limit = limit
        """Which limit: ``"tool_calls"``, ``"input_tokens"``, ``"output_tokens"`` or ``"cost_usd"``."""


class ContextWindowExceeded(RunError):
    """What would be sent does not fit the model's context window, even after the agent's history
    policy (``Agent(history=...)``) was applied, or the API answered ``context_length_exceeded``
    (the ``openai.BadRequestError`` is ``__cause__``). Nothing of the history is dropped from
    ``messages``."""

    def __init__(
        self,
        message: str,
        *,
        tokens: int | None = None,
        limit: int | None = None,
        messages: list[dict[str, Any]],
        usage: Usage,
    ) -> None:
        super().__init__(message, messages=messages, usage=usage)
        self.tokens = tokens
        """The prompt tokens counted offline for the smallest request the policy could make, or
        ``None`` when the API refused the request."""
        self.limit = limit
        """The prompt budget in tokens (context window minus the output reserve), if known."""


class ToolExecutionError(RunError):
    """A tool raised and the agent is configured to re-raise; the original is ``__cause__``."""

    def __init__(self, message: str, *, tool_name: str, messages: list[dict[str, Any]], usage: Usage) -> None:
        super().__init__(message, messages=messages, usage=usage)
        self.tool_name = tool_name


class GuardrailTripped(RunError):
    """A guardrail stopped the run: ``stage`` is ``"input"`` or ``"output"``, ``guardrail`` its
    name and ``reason`` what it found (e.g. ``"flagged: violence"``)."""

    def __init__(
        self,
        message: str,
        *,
        guardrail: str,
        stage: str,
        reason: str,
        messages: list[dict[str, Any]],
        usage: Usage,
    ) -> None:
        super().__init__(message, messages=messages, usage=usage)
        self.guardrail = guardrail
        self.stage = stage
        self.reason = reason


class CassetteError(AgentkitError):
    """A cassette cannot be recorded or replayed."""


class CassetteNotFoundError(CassetteError):
    """Replay-only mode and the cassette file does not exist."""


class RequestMismatchError(CassetteError):
    """A request does not match the recording; the message holds a readable diff."""


class UnplayedInteractionsError(CassetteError):
    """The test ended with recorded interactions that were never requested."""


class NetworkBlockedError(CassetteError):
    """A test tried to reach the network while the guard is on."""


class SessionError(AgentkitError):
    """A persisted thread cannot be read or written."""


class SessionBusyError(SessionError):
    """Another run currently holds this thread."""


class SessionCorruptError(SessionError):
    """A stored row cannot be decoded; it is reported, never skipped."""


class SessionSchemaError(SessionError):
    """The store was written by an unknown or future schema version."""


class ServeError(AgentkitError):
    """A request to the service cannot be served; answered as OpenAI's error JSON.

    Args:
        message: ``error.message``, for the client.
        status_code: The HTTP status, e.g. 400, 401, 404, 413, 429.
        type: ``error.type``, e.g. ``"invalid_request_error"``.
        code: ``error.code``, e.g. ``"unsupported_tool"``, or ``None``.
        param: ``error.param``: the request field at fault, or ``None``.
        headers: Extra response headers, e.g. ``{"retry-after": "1.5"}`` with a 429.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})
        self.status_code = status_code
        self.type = type
        self.code = code
        self.param = param

    def to_json(self) -> dict[str, Any]:
        """OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class EmbeddingError(AgentkitError):
    """An embeddings reply cannot be used (wrong count, wrong length, undecodable vector)."""


class EmbeddingInputError(EmbeddingError):
    """A text cannot be embedded as given: it is empty or longer than the model accepts."""

    def __init__(
        self, message: str, *, index: int, tokens: int | None = None, limit: int | None = None
    ) -> None:
        super().__init__(message)
        self.index = index
        """Position of the offending text in the input."""
        self.tokens = tokens
        """Its length in tokens, when it was too long."""
        self.limit = limit
        """The model's limit in tokens per input."""


class VectorStoreError(AgentkitError):
    """A vector store cannot be read or written."""


class StoreClosedError(VectorStoreError):
    """The store was closed with ``aclose()``."""


class DimensionMismatchError(VectorStoreError):
    """A vector's length differs from the store's dimensions."""

    def __init__(self, message: str, *, expected: int, got: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.got = got


class EmbeddingModelMismatchError(VectorStoreError):
    """The store was built with one embedding model (and size) and is used with another."""


class MCPServerError(AgentkitError):
    """An MCP server (``agentkit.mcp``) cannot be started or reached, or it went away.

    Raised by a tool of that server too, so the model reads it as that call's result while the
    run's other tools are unaffected.
    """

    def __init__(self, message: str, *, server: str) -> None:
        super().__init__(message)
        self.server = server
        """The server's name."""


class ToolRetry(Exception):
    """Raise from tool code to send ``message`` back to the model and let it try again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingDescriptionWarning(UserWarning):
    """A tool parameter has no description: the model has only its name to go on.

    Silence it with ``warnings.filterwarnings("ignore", category=MissingDescriptionWarning)`` or
    make it an error with ``@tool(require_descriptions=True)``.
    """


class DurableError(AgentkitError):
    """A durable run (``agentkit.durable``) cannot go on."""


class DurableVersionError(DurableError):
    """The run was recorded by another version of the agent (other tools, instructions, model or
    settings); it is never replayed by this one."""


class DurableReplayError(DurableError):
    """A step recorded for a run does not fit what the run does now (e.g. a tool step returned
    another ``tool_call_id``): replaying would mix up results, so the run stops."""

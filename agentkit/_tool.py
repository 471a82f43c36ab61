"""The ``@tool`` decorator and the ``Tool`` value it returns."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, ParamSpec, TypeVar, overload

from pydantic_core import from_json, to_json

from ._config import check_number
from ._context import RunContext
from ._schema.arguments import (
    DEFAULT_LIMITS,
    ArgumentLimits,
    decode_arguments,
    json_type,
    make_validator,
)
from ._schema.callable import inspect_callable
from ._schema.check import check_json_schema
from ._schema.docstring import DocstringFormat
from ._schema.function_schema import (
    function_schema,
)
from ._schema.strict_schema import NotStrictError, to_strict_schema
from .exceptions import FieldError, MissingDescriptionWarning, ToolArgumentsError, ToolDefinitionError

__all__ = ["ApprovalPredicate", "EnabledPredicate", "Tool", "client_tool", "tool"]

P = ParamSpec("P")
R = TypeVar("R")

ApprovalPredicate = Callable[[dict[str, Any], RunContext[Any]], bool]
"""``(arguments, ctx) -> bool``: whether this call must wait for a human's approval."""
EnabledPredicate = Callable[[RunContext[Any]], bool]
"""``(ctx) -> bool``: whether the tool is offered to the model in this run."""

logger = logging.getLogger("agentkit")


@dataclass(eq=False)
class Tool(Generic[P, R]):
    """A Python function the model can call, with the JSON schema the model sees.

    Calling the tool calls the original function unchanged.
    """

    name: str
    """The name the model calls the tool by."""
    description: str
    """What the tool does, for the model."""
    parameters: dict[str, Any]
    """The JSON schema of the arguments, as sent to the model."""
    strict: bool
    """Whether the schema is sent in OpenAI strict mode."""
    function: Callable[P, R]
    """The original function."""
    is_async: bool
    """Whether ``function`` is a coroutine function."""
    takes_context: bool
    """The function's first parameter is a ``RunContext``: the loop passes it positionally."""
    needs_deps: bool = False
    """Its ``RunContext[Deps]`` names a ``Deps`` that ``None`` does not satisfy: runs must pass ``deps=``."""
    timeout: float | None = None
    """Seconds a call may take before the loop gives up on it; ``None`` for no limit."""
    idempotent: bool = False
    """The tool may safely be re-run after a crash."""
    max_retries: int | None = None
    """Turns of a run in which this tool may fail before the agent stops; ``None`` for the agent's default."""
    strict_report: tuple[str, ...] = ()
    """What strict mode changed in the schema, or why strict mode was not possible."""
    requires_approval: bool | ApprovalPredicate = False
    """``True``, or a predicate on the decoded arguments and the run context: the run pauses
    before such a call until the caller approves or denies it."""
    max_concurrency: int | None = None
    """Calls of this tool that may run at once across all concurrent runs of the agent."""
    enabled: EnabledPredicate | None = None
    """Evaluated once per run: a disabled tool is not offered, and a call to it is unknown."""
    executed_by: Literal["agent", "client"] = "agent"
    """``"client"`` for a ``client_tool``: the run pauses and the caller supplies the output."""
    validator: Callable[[Mapping[str, Any]], dict[str, Any]] | None = field(default=None, repr=False)
    """Turns the decoded arguments into keyword arguments for ``function``, raising
    ``ToolArgumentsError``; ``None`` derives it from the function's signature. A tool declared by
    a JSON schema alone (an MCP server's tool) brings its own."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the original function."""
        return self.function(*args, **kwargs)

    def validate(
        self, arguments: str | bytes | Mapping[str, Any], *, limits: ArgumentLimits = DEFAULT_LIMITS
    ) -> dict[str, Any]:
        """Validate the model's arguments into keyword arguments for the function.

        Coercion is pydantic's lax mode: ``"5"`` is accepted for an ``int`` (``"abc"`` or ``5.5``
        are not), strings become ``datetime``/``UUID``/``Enum`` values, lists become tuples or
        sets. Models sometimes quote numbers; refusing them would only cost a retry. Unknown
        fields are rejected. Parameters the model left out get their Python default; in strict
        mode a ``null`` for a parameter with a default does too (even when its type accepts ``None``).
        ``NaN`` and ``Infinity`` are not JSON and are rejected; so are keys that no object at any
        depth declares, and arguments past ``limits``.

        Args:
            arguments: The ``arguments`` of a tool call: a JSON string or an already decoded dict.
            limits: Size and nesting bounds (``Agent`` passes its own).

        Returns:
            Keyword arguments in the annotated types. A ``RunContext`` is not included: pass it first.

        Raises:
            ToolArgumentsError: Invalid JSON, not an object, or invalid fields; lists every problem.
        """
        data = decode_arguments(self.name, arguments, limits)
        if not isinstance(data, Mapping):
            raise ToolArgumentsError(
                self.name, [FieldError("", f"expected a JSON object, got {json_type(data)}")]
            )
        if self.executed_by == "client":
            return dict(data)  # The client validates its own tool's arguments.
        if self.validator is None:
            # A Tool built by hand rather than by @tool: derive the validator from the function once.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MissingDescriptionWarning)
                fs = function_schema(self.function, name=self.name)
            self.validator = make_validator(fs, self.strict)
        return self.validator(data)

    def to_openai(self) -> dict[str, Any]:
        """Return the Chat Completions tool param ``{"type": "function", "function": {...}}``."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
                "strict": self.strict,
            },
        }

    def to_responses(self) -> dict[str, Any]:
        """Return the Responses API function tool param."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
            "strict": self.strict,
        }


@overload
def tool(func: Callable[P, R], /) -> Tool[P, R]: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool | None = None,
    timeout: float | None = None,
    idempotent: bool = False,
    max_retries: int | None = None,
    docstring_format: DocstringFormat = "auto",
    require_descriptions: bool = False,
    requires_approval: bool | ApprovalPredicate = False,
    max_concurrency: int | None = None,
    enabled: EnabledPredicate | None = None,
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def tool(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool | None = None,
    timeout: float | None = None,
    idempotent: bool = False,
    max_retries: int | None = None,
    docstring_format: Literal["auto", "google", "numpy", "rest", "epydoc"] = "auto",
    require_descriptions: bool = False,
    requires_approval: bool | ApprovalPredicate = False,
    max_concurrency: int | None = None,
    enabled: EnabledPredicate | None = None,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Turn a function into a :class:`Tool`; use bare (``@tool``) or with options (``@tool(...)``).

    The name, description and parameter descriptions come from the function and its docstring
    (Google, NumPy, reST or Epydoc). Everything is checked here, at decoration time.

    Args:
        func: The function, when used bare.
        name: The tool name; defaults to the function name.
        description: The tool description; defaults to the docstring without its sections.
        strict: ``True`` requires OpenAI strict mode, ``False`` sends the natural schema, ``None``
            uses strict mode when the signature allows it and reports why when it does not.
        timeout: Seconds a call may take; enforced by the loop.
        idempotent: The tool may be re-run after a crash.
        max_retries: Failed calls allowed per run; ``None`` for the agent's default.
        docstring_format: The docstring style, or ``"auto"`` to detect it.
        require_descriptions: Raise instead of warning when a parameter has no description.
        requires_approval: ``True``, or ``predicate(arguments: dict, ctx: RunContext) -> bool``:
            the run pauses before such a call (``RunResult.pending_tool_calls``) and the function
            runs only after ``decisions=[call.approve()]``. Arguments that do not validate are
            answered as usual without asking; a predicate that raises counts as ``True``.
        max_concurrency: At most this many calls of the tool run at once, across all concurrent
            runs of the agent on one event loop (other calls wait; results keep the model's order).
        enabled: ``predicate(ctx) -> bool``, evaluated once at the start of each run: when it is
            false the tool is not offered to the model and a call to it is answered like an
            unknown tool. An exception from it propagates out of ``run``.

    Raises:
        ToolDefinitionError: The function cannot be a tool, or ``strict=True`` cannot be honoured.
    """
    options = {
        "name": name,
        "description": description,
        "strict": strict,
        "timeout": timeout,
        "idempotent": idempotent,
        "max_retries": max_retries,
        "docstring_format": docstring_format,
        "require_descriptions": require_descriptions,
        "requires_approval": requires_approval,
        "max_concurrency": max_concurrency,
        "enabled": enabled,
    }
    if func is not None:
        return _build(func, localns=sys._getframe(1).f_locals, **options)  # type: ignore[arg-type]

    def decorate(f: Callable[P, R]) -> Tool[P, R]:
        return _build(f, localns=sys._getframe(1).f_locals, **options)  # type: ignore[arg-type]

    return decorate


def _build(
    func: Callable[P, R],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool | None = None,
    timeout: float | None = None,
    idempotent: bool = False,
    max_retries: int | None = None,
    docstring_format: DocstringFormat = "auto",
    require_descriptions: bool = False,
    requires_approval: bool | ApprovalPredicate = False,
    max_concurrency: int | None = None,
    enabled: EnabledPredicate | None = None,
    localns: Mapping[str, Any] | None = None,
) -> Tool[P, R]:
    if isinstance(func, Tool):
        raise ToolDefinitionError(f"{func.name!r} is already a Tool; apply @tool once")
    fail = ToolDefinitionError
    check_number("@tool(timeout=...)", timeout, minimum=0, exclusive=True, optional=True, error=fail)
    check_number("@tool(max_retries=...)", max_retries, minimum=0, integer=True, optional=True, error=fail)
    check_number(
        "@tool(max_concurrency=...)", max_concurrency, minimum=1, integer=True, optional=True, error=fail
    )
    _refuse_generators(func)
    try:
        built = _build_tool(
            func,
            name=name,
            description=description,
            strict=strict,
            timeout=timeout,
            idempotent=idempotent,
            max_retries=max_retries,
            docstring_format=docstring_format,
            require_descriptions=require_descriptions,
            localns=localns,
        )
    except (ToolDefinitionError, Warning):
        # A warning the user turned into an error (``MissingDescriptionWarning``) stays itself.
        raise
    except Exception as exc:
        # Decoration raises nothing but ToolDefinitionError: a recursive model or a type pydantic
        # cannot describe becomes one, with the cause attached.
        raise ToolDefinitionError(
            f"cannot build a tool from {getattr(func, '__qualname__', func)!r}: {type(exc).__name__}: {exc}"
        ) from exc
    return dataclasses.replace(
        built, requires_approval=requires_approval, max_concurrency=max_concurrency, enabled=enabled
    )


def _refuse_generators(func: Callable[..., Any]) -> None:
    target = inspect_callable(func).function
    if inspect.isasyncgenfunction(target) or inspect.isgeneratorfunction(target):
        kind = "an async generator" if inspect.isasyncgenfunction(target) else "a generator"
        raise ToolDefinitionError(
            f"{getattr(func, '__qualname__', func)!r} is {kind} function; a tool must return its whole "
            "result: collect the items and return a list (or a string)"
        )


def _build_tool(
    func: Callable[P, R],
    *,
    name: str | None,
    description: str | None,
    strict: bool | None,
    timeout: float | None,
    idempotent: bool,
    max_retries: int | None,
    docstring_format: DocstringFormat,
    require_descriptions: bool,
    localns: Mapping[str, Any] | None,
) -> Tool[P, R]:
    # Warnings point at the decorated function: _build_tool <- _build <- tool/decorate <- the user.
    fs = function_schema(
        func,
        name=name,
        description=description,
        docstring_format=docstring_format,
        require_descriptions=require_descriptions,
        localns=localns,
        stacklevel=5,
    )
    where = f"tool {fs.name!r}"
    parameters, use_strict = fs.parameters, False
    report: list[str] = []
    if strict is not False:
        try:
            parameters, report = to_strict_schema(fs.parameters, nullable=fs.defaults)
            use_strict = True
        except NotStrictError as exc:
            if strict:
                raise ToolDefinitionError(f"{where}: strict=True is not possible: {exc}") from None
            report = [f"not strict: {exc}"]
    parameters = from_json(to_json(parameters))  # a private copy: the type cache shares sub-schemas
    check_json_schema(parameters, where)
    for line in report:
        logger.debug("%s: %s", where, line)
    return Tool(
        name=fs.name,
        description=fs.description,
        parameters=parameters,
        strict=use_strict,
        function=func,
        is_async=inspect_callable(func).is_async,
        takes_context=fs.takes_context,
        needs_deps=fs.needs_deps,
        timeout=timeout,
        idempotent=idempotent,
        max_retries=max_retries,
        strict_report=tuple(report),
        validator=make_validator(fs, use_strict),
    )


def client_tool(name: str, *, description: str, parameters: dict[str, Any]) -> Tool[..., Any]:
    """Declare a tool the caller runs (e.g. in a browser): the model sees it like any other tool.

    A call to it pauses the run (``PendingToolCall.kind == "client"``); resume with
    ``decisions=[call.output(value)]`` (or ``call.deny(reason)``). The schema is sent as given,
    not in strict mode, and the arguments are not validated here: the client gets the raw string.

    Args:
        name: The tool name the model calls.
        description: What the tool does, for the model.
        parameters: The JSON schema of the arguments (an ``"object"`` schema).

    Raises:
        ToolDefinitionError: ``parameters`` is not a valid JSON schema of an object.
    """
    if not isinstance(parameters, Mapping) or parameters.get("type") != "object":
        raise ToolDefinitionError(
            f"client tool {name!r}: parameters must be a JSON schema with type 'object'"
        )
    schema = from_json(to_json(parameters))
    check_json_schema(schema, f"client tool {name!r}")

    def not_here(*args: Any, **kwargs: Any) -> Any:
        raise ToolDefinitionError(f"{name!r} is a client-executed tool: it has no function to call here.")

    return Tool(
        name=name,
        description=description,
        parameters=schema,
        strict=False,
        function=not_here,
        is_async=False,
        takes_context=False,
        executed_by="client",
    )

"""The model's arguments for a tool: decoded, bounded and validated into the function's types.

Decoding refuses ``NaN``/``Infinity`` and arguments past ``ArgumentLimits`` (size, nesting depth)
as data, never a ``RecursionError``; validation is pydantic's lax mode per parameter, plus
unknown keys at every depth (``extra.UnknownFields``); every problem is reported at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from pydantic_core import from_json

from ..exceptions import FieldError, ToolArgumentsError
from .extra import UnknownFields
from .function_schema import FunctionSchema, Parameter

__all__ = [
    "DEFAULT_LIMITS",
    "ArgumentLimits",
    "ArgumentsValidator",
    "decode_arguments",
    "json_type",
    "make_validator",
]


@dataclass(frozen=True)
class ArgumentLimits:
    """Bounds on a tool call's ``arguments`` before they are parsed; past them the call is rejected
    as data (the model reads the error), never a ``RecursionError`` or a huge allocation."""

    max_chars: int = 1_000_000
    """Characters of the raw JSON arguments string."""
    max_depth: int = 64
    """Nesting depth of objects and arrays."""


DEFAULT_LIMITS = ArgumentLimits()


def json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def decode_arguments(name: str, arguments: str | bytes | Mapping[str, Any], limits: ArgumentLimits) -> Any:
    if isinstance(arguments, (str, bytes)):
        if len(arguments) > limits.max_chars:
            raise ToolArgumentsError(
                name,
                [
                    FieldError(
                        "", f"arguments are {len(arguments)} characters; the limit is {limits.max_chars}"
                    )
                ],
            )
        try:
            data = from_json(arguments or "{}", allow_inf_nan=False)
        except ValueError as exc:
            raise ToolArgumentsError(
                name, [FieldError("", f"expected a JSON object, got invalid JSON: {exc}")]
            ) from None
    else:
        data = arguments
    problem = _shape_problem(data, limits.max_depth)
    if problem:
        raise ToolArgumentsError(name, [FieldError("", problem)])
    return data


def _shape_problem(data: Any, max_depth: int) -> str | None:
    """Check nesting depth and non-finite numbers without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return f"{value!r} is not a JSON number"
        if isinstance(value, (dict, list, tuple)):
            if depth > max_depth:
                return f"arguments are nested deeper than {max_depth} levels"
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return None


def make_validator(fs: FunctionSchema, strict: bool) -> ArgumentsValidator:
    # In strict mode every parameter with a default is nullable, and null means the default.
    null_means_default = frozenset(p.name for p in fs.params if strict and not p.required)
    schema = fs.parameters
    unknown = UnknownFields(schema.get("$defs") or {})
    return ArgumentsValidator(fs.name, fs.params, null_means_default, unknown, schema.get("properties") or {})


class ArgumentsValidator:
    """Validates a tool's decoded arguments into keyword arguments for the function."""

    def __init__(
        self,
        tool_name: str,
        params: tuple[Parameter, ...],
        null_means_default: frozenset[str],
        unknown: UnknownFields,
        properties: Mapping[str, Any],
    ) -> None:
        self.tool_name = tool_name
        self.params = params
        self.null_means_default = null_means_default
        self.known = frozenset(p.name for p in params)
        self.unknown = unknown
        self.properties = properties

    def __call__(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``data``; report every problem at once.

        Raises:
            ToolArgumentsError: Unknown, missing or invalid fields.
        """
        kwargs: dict[str, Any] = {}
        errors: list[FieldError] = []
        for param in self.params:
            if param.name not in data:
                if param.required:
                    errors.append(FieldError(param.name, "missing required field"))
                else:
                    kwargs[param.name] = param.make_default()
                continue
            value = data[param.name]
            if value is None and param.name in self.null_means_default:
                kwargs[param.name] = param.make_default()
                continue
            try:
                kwargs[param.name] = param.adapter.validate_python(value)
            except pydantic.ValidationError as exc:
                errors.extend(_field_errors(param.name, exc))
                continue
            if isinstance(value, (dict, list)):
                for path in self.unknown.find(value, self.properties.get(param.name), param.name):
                    errors.append(FieldError(path, "unknown field"))
        if not data.keys() <= self.known:
            expected = ", ".join(sorted(self.known)) or "no arguments"
            unknown = [key for key in data if key not in self.known]
            errors.extend(
                FieldError(str(key), f"unknown field; expected one of: {expected}") for key in unknown
            )
        if errors:
            raise ToolArgumentsError(self.tool_name, errors)
        return kwargs


def _field_errors(name: str, exc: pydantic.ValidationError) -> Iterator[FieldError]:
    for error in exc.errors(include_url=False, include_context=False):
        path = ".".join([name, *(str(part) for part in error["loc"])])
        if error["type"] == "missing":
            yield FieldError(path, "missing required field")
            continue
        if error["type"] == "extra_forbidden":
            yield FieldError(path, "unknown field")
            continue
        message = error["msg"]
        if message.startswith("Input should be "):
            message = "expected " + message[len("Input should be ") :]
        got = repr(error["input"])
        yield FieldError(path, f"{message}, got {got if len(got) <= 80 else got[:77] + '...'}")

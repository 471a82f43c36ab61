"""See through ``functools.partial``, bound methods and callable instances to the function inside.

A tool's schema comes from the parameters the model still has to fill in, its type hints from
the function that declares them, and its name and docstring from that function (or, for a
callable instance, from its class).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import ToolDefinitionError

__all__ = ["Callee", "inspect_callable"]


@dataclass(frozen=True)
class Callee:
    """What a tool reads from a callable."""

    function: Callable[..., Any]
    """The plain function or method that declares the parameters; its type hints are read."""
    signature: inspect.Signature
    """The parameters left to fill in: ``self`` and arguments bound by a partial are gone."""
    name: str
    """The default tool name: the function's name, or the class name in snake_case."""
    doc: str | None
    """The docstring to describe the tool with."""
    is_async: bool
    """Whether calling it returns a coroutine."""


def inspect_callable(func: Callable[..., Any], where: str = "tool") -> Callee:
    """Unwrap ``func`` (a function, method, ``functools.partial`` or callable instance).

    Raises:
        ToolDefinitionError: ``func`` is not callable, or its signature cannot be read.
    """
    bound: set[str] = set()
    inner: Any = func
    while isinstance(inner, functools.partial):
        # Nested partials flatten on creation, but a partial of a method of a partial does not.
        bound.update(inner.keywords)
        inner = inner.func
    if not callable(inner):
        raise ToolDefinitionError(f"{where}: {func!r} is not callable; pass a function to @tool")

    function: Callable[..., Any]
    if inspect.isroutine(inner) or inspect.isclass(inner):
        function, name, doc = inner, getattr(inner, "__name__", ""), inner.__doc__
    else:
        # A callable instance: the parameters are those of its class's __call__.
        cls = type(inner)
        function = cls.__call__
        name, doc = _snake_case(cls.__name__), function.__doc__ or cls.__doc__
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise ToolDefinitionError(f"{where}: cannot read the signature of {func!r}: {exc}") from exc
    if bound:
        # inspect keeps keyword-bound arguments as keyword-only parameters with the bound value
        # as default; the model must not be offered (or be able to override) them.
        signature = signature.replace(
            parameters=[p for p in signature.parameters.values() if p.name not in bound]
        )
    return Callee(function, signature, name, doc, inspect.iscoroutinefunction(function))


def _snake_case(name: str) -> str:
    # "WeatherLookup" -> "weather_lookup", "HTTPFetch" -> "http_fetch".
    name = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return name.lower()

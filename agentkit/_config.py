"""Numeric options are checked when they are given, with an error that names the option and its range."""

from __future__ import annotations

import math
from typing import Any

from .exceptions import ConfigurationError


def check_number(
    option: str,
    value: Any,
    *,
    minimum: float,
    integer: bool = False,
    optional: bool = False,
    exclusive: bool = False,
    error: type[Exception] = ConfigurationError,
) -> None:
    """Check one numeric option.

    Args:
        option: The option's name as the user wrote it, e.g. ``"Agent(run_timeout=...)"``.
        value: What was given.
        minimum: The smallest accepted value.
        integer: Whether only whole numbers are accepted.
        optional: Whether ``None`` (no limit) is accepted.
        exclusive: Whether ``minimum`` itself is excluded.
        error: The error to raise (``@tool`` raises ``ToolDefinitionError`` at decoration).

    Raises:
        ConfigurationError: ``value`` is not a number in the accepted range (or ``error``).
    """
    if value is None and optional:
        return
    kind = "an integer" if integer else "a number"
    bound = f"> {minimum:g}" if exclusive else f">= {minimum:g}"
    accepted = f"{kind} {bound}" + (" or None" if optional else "")
    ok = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)
    if ok and not integer:
        ok = math.isfinite(value)
    if ok:
        ok = value > minimum if exclusive else value >= minimum
    if not ok:
        raise error(f"{option} must be {accepted}, not {value!r}.")

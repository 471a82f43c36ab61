"""The per-run retry budgets for failing tool calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..exceptions import ToolBudgetExceeded, ToolExecutionError
from .dispatch import CallOutcome
from .spec import RunSpec


def check_failures(
    spec: RunSpec,
    failures: dict[str, int],
    failed_turns: int,
    outcomes: list[CallOutcome],
    transcript: Callable[[], dict[str, Any]],
) -> int:
    """Count this turn's failures into ``failures`` and return the new number of failed turns.

    The budgets count failed *turns*, so a model that sends several bad calls at once still sees
    every error before it is stopped.

    Raises:
        ToolExecutionError: A tool raised and the agent re-raises tool errors.
        ToolBudgetExceeded: A tool, or the run as a whole, failed in too many turns.
    """
    failed_tools = _failed_tools(spec, outcomes, transcript)
    if not failed_tools:
        return failed_turns
    failed_turns += 1
    for name in failed_tools:
        count = failures[name] = failures.get(name, 0) + 1
        tool = spec.dispatcher.tools.get(name)
        if tool is None:
            continue
        limit = tool.max_retries if tool.max_retries is not None else spec.max_tool_retries
        if count > limit:
            raise ToolBudgetExceeded(
                f"Tool {name!r} failed in {count} turns of this run (limit {limit}).", **transcript()
            )
    if failed_turns > spec.max_failed_turns:
        raise ToolBudgetExceeded(
            f"Tool calls failed in {failed_turns} turns of this run "
            f"(limit max_failed_turns={spec.max_failed_turns}).",
            **transcript(),
        )
    return failed_turns


def _failed_tools(
    spec: RunSpec, outcomes: list[CallOutcome], transcript: Callable[[], dict[str, Any]]
) -> set[str]:
    failed: set[str] = set()
    for o in outcomes:
        if not o.is_error:
            continue
        if o.exception is not None and spec.raise_tool_errors:
            raise ToolExecutionError(
                f"Tool {o.call.name!r} raised {type(o.exception).__name__}: {o.exception}",
                tool_name=o.call.name,
                **transcript(),
            ) from o.exception
        failed.add(o.call.name)
    return failed

"""Lifecycle hooks around runs, model requests and tool calls, and the step seam.

``Hooks`` is a set of optional callbacks, each sync or async, each given the run's
``RunContext`` (a tool call's hooks get the per-call context, with ``tool_call_id``, ``tool_name``
and ``idempotency_key`` set). ``Agent(hooks=...)`` takes one ``Hooks`` or a list; they are called
in list order.

Errors: an exception raised by a hook ends the run. An ``AgentkitError`` passes through with the
transcript attached; any other exception becomes a ``RunError`` with the hook's exception as
``__cause__``. One exception to that rule: ``before_tool_call`` may raise ``ToolRetry(message)``
to refuse the call — the tool does not run and the model reads ``message`` (a policy hook).

``StepRunner`` is the seam for durable execution: when ``Agent(step_runner=...)`` is set, every
model request and every tool function call is made as ``await step_runner(step, run)``, where
``run()`` performs it and returns its value. A durable engine records the value under the step
and, on replay, returns it without calling ``run``. A runner may also have a ``run_id()`` method:
a run started with it takes that id (and the idempotency keys derived from it), so a replayed run
keeps the id it was recorded under. A ``DurableError`` the runner raises around a tool call ends
the run (other exceptions are the tool's and become its result).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from ._context import RunContext
from ._events import ToolCallResult
from ._result import ToolCall, Usage

if TYPE_CHECKING:
    from ._result import RunResult

T = TypeVar("T")

Callback = Callable[..., "Awaitable[None] | None"]


@dataclass(frozen=True)
class ModelRequest:
    """One model request, as hooks see it."""

    model: str
    """The model name sent."""
    turn: int
    """The turn number, from 1."""
    messages: list[dict[str, Any]]
    """The history sent (without the instructions); do not mutate it."""
    tools: list[str]
    """The names of the tools offered."""


@dataclass(frozen=True)
class ModelResponse:
    """What a model request returned, as hooks see it."""

    text: str | None
    """The assistant's text, if any."""
    tool_calls: list[ToolCall]
    """The calls it asked for, in order."""
    usage: Usage
    """This request's usage."""
    finish_reason: str | None
    """``"stop"``, ``"tool_calls"``, ``"length"``, ..."""


@dataclass(frozen=True)
class Hooks:
    """Optional callbacks (sync or async) around a run's steps; see the module docs for errors."""

    before_run: Callable[[RunContext[Any]], Awaitable[None] | None] | None = None
    """Called once the history is loaded, before the first request."""
    after_run: Callable[[RunContext[Any], RunResult[Any] | None, BaseException | None], Any] | None = None
    """Called when the run ends: with its result (also a paused one), or with the error."""
    before_model_request: Callable[[RunContext[Any], ModelRequest], Any] | None = None
    """Called before each model request."""
    after_model_request: Callable[[RunContext[Any], ModelRequest, ModelResponse], Any] | None = None
    """Called after each model request that returned a reply."""
    before_tool_call: Callable[[RunContext[Any], ToolCall], Any] | None = None
    """Called before each tool call is validated and run; may raise ``ToolRetry`` to refuse it."""
    after_tool_call: Callable[[RunContext[Any], ToolCall, ToolCallResult], Any] | None = None
    """Called with each tool call's result (the same value streams show as ``ToolCallResult``)."""


@dataclass(frozen=True)
class HookSet:
    """Several ``Hooks`` merged: for each event, the callbacks to call in order."""

    before_run: tuple[Callback, ...] = ()
    after_run: tuple[Callback, ...] = ()
    before_model_request: tuple[Callback, ...] = ()
    after_model_request: tuple[Callback, ...] = ()
    before_tool_call: tuple[Callback, ...] = ()
    after_tool_call: tuple[Callback, ...] = ()

    @classmethod
    def of(cls, hooks: Hooks | Sequence[Hooks] | None) -> HookSet:
        """Merge ``hooks`` (one, a list, or none)."""
        if hooks is None:
            return cls()
        listed = [hooks] if isinstance(hooks, Hooks) else list(hooks)
        names = [f for f in cls.__dataclass_fields__]
        return cls(**{n: tuple(f for h in listed if (f := getattr(h, n)) is not None) for n in names})

    def __add__(self, other: HookSet) -> HookSet:
        names = list(self.__dataclass_fields__)
        return HookSet(**{n: getattr(self, n) + getattr(other, n) for n in names})

    def __bool__(self) -> bool:
        return any(getattr(self, n) for n in self.__dataclass_fields__)


async def call_hooks(callbacks: tuple[Callback, ...], *args: Any) -> None:
    """Call each callback with ``args``, awaiting those that return an awaitable."""
    for callback in callbacks:
        value = callback(*args)
        if inspect.isawaitable(value):
            await value


@dataclass(frozen=True)
class Step:
    """One unit of work a ``StepRunner`` wraps."""

    kind: Literal["model_request", "tool_call"]
    """What the step does."""
    name: str
    """The model name, or the tool name."""
    run_id: str
    """The run it belongs to."""
    turn: int
    """The model request's turn number, from 1 (0 for a tool call)."""
    tool_call_id: str | None = None
    """The tool call's id (tool calls only)."""
    idempotency_key: str | None = None
    """The tool call's stable key, the same when it is run again (tool calls only)."""


class StepRunner(Protocol):
    """Wraps each model request and tool function call: ``await runner(step, run)``.

    ``run()`` makes the request or calls the function and returns its value (a ``ModelTurn``
    for a model request, the function's return value for a tool call) or raises its error.
    The runner must return what ``run()`` returned (or a recorded copy of it) and raise what it
    raised. The tool's timeout and the run's deadline still apply around the step.
    """

    async def __call__(self, step: Step, run: Callable[[], Awaitable[Any]]) -> Any: ...

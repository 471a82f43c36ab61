"""``Agent``: a model, instructions and tools; immutable and stateless, so one agent serves any
number of concurrent runs."""

from __future__ import annotations

import asyncio
import threading
import types
from collections.abc import AsyncGenerator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Generic, Literal

import pydantic
from typing_extensions import Self, TypeVar

from ._agent_tool import agent_tool
from ._build import build_spec, check_config
from ._client import DefaultClients, resolve_client, sync_loop
from ._events import FinalResult, StreamEvent
from ._guardrail import Guardrail
from ._handoff import HistoryFilter, handoff_tool
from ._hooks import Hooks, StepRunner
from ._limits import RateLimiter, UsageLimits
from ._loop.run import run_loop
from ._loop.spec import RunSpec
from ._result import RunResult, ToolDecision
from ._tool import Tool
from .exceptions import ConfigurationError, SyncInAsyncError
from .history import HistoryPolicy, KeepAll

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from ._session import Session

DepsT = TypeVar("DepsT", default=None)
"""The type of the per-run dependencies (``deps=``, read by tools as ``ctx.deps``)."""
OutputT = TypeVar("OutputT", default=str)
"""The type of ``RunResult.output``: ``str``, or the ``output_type`` model."""

_KEEP_ALL = KeepAll()

_CONFIG = (
    "model",
    "name",
    "instructions",
    "tools",
    "client",
    "api",
    "max_turns",
    "model_settings",
    "output_type",
    "deps_type",
    "tool_choice",
    "parallel_tool_calls",
    "run_timeout",
    "max_tool_retries",
    "max_failed_turns",
    "raise_tool_errors",
    "max_tool_output_chars",
    "tool_threads",
    "usage_limits",
    "rate_limiter",
    "allow_truncated_output",
    "reset_tool_choice",
    "max_argument_chars",
    "max_argument_depth",
    "history",
    "hooks",
    "step_runner",
    "input_guardrails",
    "output_guardrails",
)


class Agent(Generic[DepsT, OutputT]):
    """A model with instructions and tools. Its configuration is immutable: assigning an
    attribute raises ``AttributeError``; derive a changed agent with ``clone(**changes)``.

    ``Agent(...)`` is an ``Agent[None, str]``; ``output_type=Model`` makes it an
    ``Agent[None, Model]``, and ``deps_type=Deps`` an ``Agent[Deps, ...]``.

    Args:
        model: The model name, e.g. ``"gpt-4o-mini"``.
        name: A name for this agent (used by saved agent definitions and logs).
        instructions: The system prompt (Chat Completions) or ``instructions`` (Responses). It is
            sent with every request and is not part of ``RunResult.messages``.
        tools: ``@tool``-decorated functions (at most 128, the API's limit).
        client: An ``openai.AsyncOpenAI`` client, which stays the caller's to close. Without one,
            the agent builds a default client from ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` per
            event loop and closes it itself (see ``aclose``). API errors are retried only by the
            SDK (``AsyncOpenAI(max_retries=...)``, default 2; never 400/401/403/404).
        api: ``"chat"`` for Chat Completions or ``"responses"`` for the Responses API.
        max_turns: Model requests allowed in one run before ``MaxTurnsExceeded`` (at least 1).
        model_settings: Extra request parameters, e.g. ``{"temperature": 0}``.
        output_type: A pydantic model requested as a strict structured output.
        deps_type: The type of ``deps=`` (for type checkers only; not checked at run time).
        tool_choice: Passed to the API as is (``"auto"``, ``"required"``, a named function).
        parallel_tool_calls: Passed to the API when set.
        run_timeout: Seconds for a whole run before ``RunTimeout``.
        max_tool_retries: Turns in which a tool may fail per run (a tool's own ``max_retries``
            wins) before ``ToolBudgetExceeded``.
        max_failed_turns: Turns with at least one failed call (any tool, or an unknown name)
            allowed per run before ``ToolBudgetExceeded``.
        raise_tool_errors: Re-raise a tool's exception as ``ToolExecutionError`` instead of
            reporting it to the model.
        max_tool_output_chars: Longer tool results are cut, keeping head and tail (at least 100,
            or ``None`` for no limit).
        tool_threads: Size of the thread pool shared by this agent's ``def`` tools; also how many
            timed-out ``def`` calls may hold a thread before new ones get "no free tool thread".
        usage_limits: Run budgets (tool calls, tokens, cost); ``UsageLimitExceeded`` past them.
        rate_limiter: A ``RateLimiter`` shared with other agents or runs of this process.
        allow_truncated_output: Return a final text cut off by the token limit (with
            ``RunResult.finish_reason == "length"``) instead of raising ``OutputTruncatedError``.
        reset_tool_choice: After a turn that made tool calls, send ``tool_choice="auto"`` instead
            of a forced choice (``"required"`` or a named function), so the model can answer.
        max_argument_chars: Longer tool-call arguments are rejected (the model reads why).
        max_argument_depth: Deeper-nested tool-call arguments are rejected likewise.
        history: What part of the history each request sends: ``KeepAll()`` (the default),
            ``Truncate(...)`` or ``Summarize(...)`` from ``agentkit.history``; for one run, use
            ``agent.clone(history=...)``.
        hooks: ``Hooks`` (or a list, called in order): sync or async callbacks before and after
            the run, each model request and each tool call (see ``agentkit.hooks.Hooks``).
        step_runner: Wraps every model request and tool function call as a step
            (``await step_runner(step, run)``): the seam for durable execution engines.
        input_guardrails: Checks on the run's new input, run concurrently with the first model
            request; one that trips cancels it and raises ``GuardrailTripped``.
        output_guardrails: Checks on the final answer; one that trips raises ``GuardrailTripped``.

    Raises:
        ConfigurationError: An option is invalid (the message names it).
    """

    model: str
    name: str
    instructions: str | None
    tools: tuple[Tool[..., Any], ...]
    api: Literal["chat", "responses"]
    max_turns: int
    model_settings: Mapping[str, Any]
    """A read-only view; ``clone(model_settings=...)`` to change it."""
    output_type: type[OutputT] | None
    deps_type: type[DepsT] | None
    tool_choice: Any
    parallel_tool_calls: bool | None
    run_timeout: float | None
    max_tool_retries: int
    max_failed_turns: int
    raise_tool_errors: bool
    max_tool_output_chars: int | None
    tool_threads: int
    usage_limits: UsageLimits | None
    rate_limiter: RateLimiter | None
    allow_truncated_output: bool
    reset_tool_choice: bool
    max_argument_chars: int
    max_argument_depth: int
    history: HistoryPolicy
    hooks: tuple[Hooks, ...]
    step_runner: StepRunner | None
    input_guardrails: tuple[Guardrail, ...]
    output_guardrails: tuple[Guardrail, ...]

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        name: str = "agent",
        instructions: str | None = None,
        tools: Sequence[Tool[..., Any]] = (),
        client: AsyncOpenAI | None = None,
        api: Literal["chat", "responses"] = "chat",
        max_turns: int = 20,
        model_settings: Mapping[str, Any] | None = None,
        output_type: type[OutputT] | None = None,
        deps_type: type[DepsT] | None = None,
        tool_choice: Any = None,
        parallel_tool_calls: bool | None = None,
        run_timeout: float | None = None,
        max_tool_retries: int = 3,
        max_failed_turns: int = 5,
        raise_tool_errors: bool = False,
        max_tool_output_chars: int | None = 20_000,
        tool_threads: int = 16,
        usage_limits: UsageLimits | None = None,
        rate_limiter: RateLimiter | None = None,
        allow_truncated_output: bool = False,
        reset_tool_choice: bool = True,
        max_argument_chars: int = 1_000_000,
        max_argument_depth: int = 64,
        history: HistoryPolicy = _KEEP_ALL,
        hooks: Hooks | Sequence[Hooks] = (),
        step_runner: StepRunner | None = None,
        input_guardrails: Sequence[Guardrail] = (),
        output_guardrails: Sequence[Guardrail] = (),
    ) -> None:
        config = {
            "model": model,
            "name": name,
            "instructions": instructions,
            "tools": tools,
            "api": api,
            "max_turns": max_turns,
            "model_settings": types.MappingProxyType(dict(model_settings or {})),
            "output_type": output_type,
            "deps_type": deps_type,
            "tool_choice": tool_choice,
            "parallel_tool_calls": parallel_tool_calls,
            "run_timeout": run_timeout,
            "max_tool_retries": max_tool_retries,
            "max_failed_turns": max_failed_turns,
            "raise_tool_errors": raise_tool_errors,
            "max_tool_output_chars": max_tool_output_chars,
            "tool_threads": tool_threads,
            "usage_limits": usage_limits,
            "rate_limiter": rate_limiter,
            "allow_truncated_output": allow_truncated_output,
            "reset_tool_choice": reset_tool_choice,
            "max_argument_chars": max_argument_chars,
            "max_argument_depth": max_argument_depth,
            "history": history,
            "hooks": (hooks,) if isinstance(hooks, Hooks) else tuple(hooks),
            "step_runner": step_runner,
            "input_guardrails": tuple(input_guardrails),
            "output_guardrails": tuple(output_guardrails),
        }
        check_config(config)
        config["tools"] = tuple(tools)
        set_ = object.__setattr__
        for key, value in config.items():
            set_(self, key, value)
        set_(self, "_explicit_client", client)
        set_(self, "_defaults", DefaultClients())
        set_(self, "_pool", None)
        set_(self, "_pool_lock", threading.Lock())
        set_(self, "_spec", build_spec(config, self._get_pool))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"Agent is immutable: cannot set {name!r}. Use agent.clone({name}=...) for a changed copy."
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Agent is immutable: cannot delete {name!r}.")

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r}, model={self.model!r}, tools={[t.name for t in self.tools]})"

    def clone(self, **changes: Any) -> Self:
        """Return a new agent with ``changes`` applied to this one's configuration.

        Any constructor argument may be changed. The clone shares this agent's default clients
        (closing either closes them for both) but not its tool thread pool.

        Raises:
            TypeError: A keyword is not a constructor argument.
            ConfigurationError: A changed option is invalid.
        """
        unknown = sorted(set(changes) - set(_CONFIG))
        if unknown:
            raise TypeError(f"Agent.clone() got unknown options: {', '.join(unknown)}.")
        config = {key: getattr(self, key) for key in _CONFIG if key != "client"}
        config["client"] = self._explicit_client
        config.update(changes)
        clone = type(self)(**config)
        if "client" not in changes:
            object.__setattr__(clone, "_defaults", self._defaults)
        return clone

    def as_tool(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        input_type: type[pydantic.BaseModel] | None = None,
        max_depth: int = 3,
    ) -> Tool[..., Any]:
        """Offer this agent to another agent as a tool.

        The model calls it with ``input`` (a string, or an ``input_type`` object whose JSON the
        sub-agent receives as its message); the sub-agent runs a fresh conversation with the
        parent run's ``deps`` and the tool returns its final output. Its usage is added to the
        parent's ``RunResult.usage``; when the parent streams, the sub-run's events arrive as
        ``SubAgentEvent``s while it runs. A run error of the sub-agent becomes the call's error
        result. Agent tools nest at most ``max_depth`` deep (counting from the outermost run);
        a deeper call is answered with a retry message instead of running.

        Args:
            name: The tool name; the agent's ``name`` by default.
            description: What the tool does; the agent's instructions by default.
            input_type: A pydantic model for a typed input; ``None`` for a string.
            max_depth: How many agent tools may run inside one another (at least 1).

        Raises:
            ConfigurationError: ``input_type`` is not a pydantic model, or ``max_depth`` < 1.
        """
        return agent_tool(
            self, name=name, description=description, input_type=input_type, max_depth=max_depth
        )

    def as_handoff(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        history: HistoryFilter | None = None,
    ) -> Tool[..., Any]:
        """A ``transfer_to_<name>`` tool: calling it hands the conversation over to this agent.

        Give it to another agent's ``tools``. When the model calls it, the turn's results are
        appended and the same run continues with this agent (its instructions, tools, model and
        output type) on the history so far, with the same usage, deadline and session;
        ``RunResult.last_agent`` names it. The first transfer of a turn wins.

        Args:
            name: The tool name; ``transfer_to_<agent name>`` by default.
            description: When to transfer; by default the agent's instructions.
            history: Reshapes the conversation this agent receives (``list -> list`` of wire-format
                items), e.g. to keep only the user's messages; the session keeps the whole thread.

        Raises:
            ToolDefinitionError: The tool name is not valid for the API.
        """
        return handoff_tool(self, name=name, description=description, history=history)

    @property
    def client(self) -> AsyncOpenAI:
        """The client this agent's runs use here: the ``client=`` given, the one set by the test
        kit's override, or the default client of the running event loop (built on first use).

        Raises:
            ConfigurationError: No client was given and ``OPENAI_API_KEY`` is not set.
            RuntimeError: The agent builds its own client and no event loop is running.
        """
        return resolve_client(self._explicit_client, self._defaults)

    async def aclose(self) -> None:
        """Close the default client this agent built on the running event loop; idempotent.

        A client passed as ``client=`` is never closed. Clients on other loops are closed when
        their loop shuts down through ``asyncio.run`` (and ``run_sync``'s loop at exit).
        """
        await self._defaults.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _get_pool(self) -> ThreadPoolExecutor:
        # Created on first use and reused by every run: no thread per call.
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    pool = ThreadPoolExecutor(self.tool_threads, thread_name_prefix=f"agentkit-{self.name}")
                    object.__setattr__(self, "_pool", pool)
        return self._pool  # type: ignore[return-value]

    async def run(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        messages: list[dict[str, Any]] | None = None,
        deps: DepsT = None,  # type: ignore[assignment]
        session: Session | None = None,
        decisions: Sequence[ToolDecision] | None = None,
    ) -> RunResult[OutputT]:
        """Run the loop until the model gives a final answer, or until it calls tools that wait
        for a decision (``result.pending_tool_calls``; ``result.output`` is then ``None``).

        Args:
            input: The user's message, or a list of items to add before the first request.
            messages: Earlier history (e.g. a previous ``result.messages``) to continue.
            deps: Dependencies handed to tools that take ``ctx: RunContext[Deps]`` as ``ctx.deps``.
            session: A session to load the history from and journal every new item to.
            decisions: To resume a paused run (same ``session=``, or its ``messages=``): one
                decision per pending call, from ``PendingToolCall.approve()``, ``.deny(reason)``
                or ``.output(value)``. Approved calls run first; ``input``, if any, follows.

        Raises:
            ToolDecisionError: ``decisions`` do not fit the calls the run waits at (one names no
                pending call or other arguments, or a pending call has none); nothing was run.
        """
        # Close the generator at once: it holds the session's lock until it is closed.
        async with aclosing(self._events(input, messages, deps, session, decisions, stream=False)) as events:
            async for event in events:
                if isinstance(event, FinalResult):
                    return event.result  # type: ignore[no-any-return]
        raise AssertionError("the loop ended without a result")  # pragma: no cover

    def run_sync(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        messages: list[dict[str, Any]] | None = None,
        deps: DepsT = None,  # type: ignore[assignment]
        session: Session | None = None,
        decisions: Sequence[ToolDecision] | None = None,
    ) -> RunResult[OutputT]:
        """Run the loop from synchronous code; the same as ``run``.

        Every ``run_sync`` call of the process runs on one background event loop, so calls from
        any number of threads share connections; it is shut down at interpreter exit.

        Raises:
            SyncInAsyncError: When called inside a running event loop (use ``await run(...)``).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise SyncInAsyncError(
                "run_sync() was called inside a running event loop; use `await agent.run(...)`."
            )
        return sync_loop.run(
            self.run(input, messages=messages, deps=deps, session=session, decisions=decisions)
        )

    async def run_stream(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        messages: list[dict[str, Any]] | None = None,
        deps: DepsT = None,  # type: ignore[assignment]
        session: Session | None = None,
        decisions: Sequence[ToolDecision] | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Run the loop with streaming requests, yielding typed events; the last is ``FinalResult``,
        preceded by ``RunPaused`` when the run stops at calls that wait for a decision."""
        async with aclosing(self._events(input, messages, deps, session, decisions, stream=True)) as events:
            async for event in events:
                yield event

    async def _events(
        self,
        input: str | list[dict[str, Any]] | None,
        messages: list[dict[str, Any]] | None,
        deps: Any,
        session: Session | None,
        decisions: Sequence[ToolDecision] | None,
        *,
        stream: bool,
    ) -> AsyncGenerator[StreamEvent, None]:
        if deps is None and (needing := self._spec.needs_deps):
            raise ConfigurationError(
                f"Tool(s) {', '.join(map(repr, needing))} take a RunContext with dependencies, but the run "
                "got no deps=: pass agent.run(..., deps=...)."
            )
        client = self.client
        loop_events = run_loop(
            self._spec,
            client,
            input,
            messages=messages,
            deps=deps,
            session=session,
            stream=stream,
            decisions=decisions,
        )
        if session is None:
            async with aclosing(loop_events) as events:
                async for event in events:
                    yield event
            return
        # A stream the caller stopped reading (``break``) is closed by the event loop's
        # async-generator finalizer: it schedules a task that closes it within a few loop
        # iterations. Let those run before taking the thread's lock.
        for _ in range(4):
            await asyncio.sleep(0)
        async with session.lock(), aclosing(loop_events) as events:
            async for event in events:
                yield event

    if TYPE_CHECKING:
        _spec: RunSpec
        _explicit_client: AsyncOpenAI | None
        _defaults: DefaultClients
        _pool: ThreadPoolExecutor | None
        _pool_lock: threading.Lock

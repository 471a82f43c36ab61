"""``Agent``: a model, instructions and tools; stateless, so one agent serves any number of runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import pydantic

from ._client import resolve_client
from ._dispatch import Dispatcher
from ._events import FinalResult, StreamEvent
from ._models import ModelAPI, Request
from ._models._chat import ChatAPI
from ._models._responses import ResponsesAPI
from ._result import RunResult
from ._run import run_loop
from ._tool import Tool
from .exceptions import ConfigurationError, SyncInAsyncError

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from .sessions import Session

DepsT = TypeVar("DepsT")
OutputT = TypeVar("OutputT")

MAX_TOOLS = 128
"""OpenAI accepts at most 128 tools in one request."""

_sync_loops = threading.local()


class Agent(Generic[DepsT, OutputT]):
    """A model with instructions and tools.

    Args:
        model: The model name, e.g. ``"gpt-4o-mini"``.
        name: A name for this agent (used by saved agent definitions and logs).
        instructions: The system prompt (Chat Completions) or ``instructions`` (Responses). It is
            sent with every request and is not part of ``RunResult.messages``.
        tools: ``@tool``-decorated functions.
        client: An ``openai.AsyncOpenAI`` client. Without one, a client is built from
            ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` when a run starts. API errors are retried
            only by the SDK (``AsyncOpenAI(max_retries=...)``, default 2; never 400/401/403/404).
        api: ``"chat"`` for Chat Completions or ``"responses"`` for the Responses API.
        max_turns: Model requests allowed in one run before ``MaxTurnsExceeded``.
        model_settings: Extra request parameters, e.g. ``{"temperature": 0}``.
        output_type: A pydantic model requested as a strict structured output.
        tool_choice: Passed to the API as is (``"auto"``, ``"required"``, a named function).
        parallel_tool_calls: Passed to the API when set.
        run_timeout: Seconds for a whole run before ``RunTimeout``.
        max_tool_retries: Turns in which a tool may fail per run (a tool's own ``max_retries``
            wins) before ``ToolBudgetExceeded``.
        max_failed_turns: Turns with at least one failed call (any tool, or an unknown name)
            allowed per run before ``ToolBudgetExceeded``.
        raise_tool_errors: Re-raise a tool's exception as ``ToolExecutionError`` instead of
            reporting it to the model.
        max_tool_output_chars: Longer tool results are cut, keeping head and tail.
        tool_threads: Size of the thread pool shared by this agent's ``def`` tools.
    """

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
        model_settings: dict[str, Any] | None = None,
        output_type: type[OutputT] | None = None,
        tool_choice: Any = None,
        parallel_tool_calls: bool | None = None,
        run_timeout: float | None = None,
        max_tool_retries: int = 3,
        max_failed_turns: int = 5,
        raise_tool_errors: bool = False,
        max_tool_output_chars: int | None = 20_000,
        tool_threads: int = 16,
    ) -> None:
        if len(tools) > MAX_TOOLS:
            raise ConfigurationError(
                f"Agent {name!r} has {len(tools)} tools; OpenAI accepts at most {MAX_TOOLS}."
            )
        by_name: dict[str, Tool[..., Any]] = {}
        for t in tools:
            if not isinstance(t, Tool):
                raise ConfigurationError(f"{t!r} is not a Tool: decorate it with @agentkit.tool.")
            if t.name in by_name:
                raise ConfigurationError(f"Two tools are named {t.name!r}.")
            by_name[t.name] = t
        if api not in ("chat", "responses"):
            raise ConfigurationError(f"api must be 'chat' or 'responses', not {api!r}.")
        if max_turns < 1:
            raise ConfigurationError("max_turns must be at least 1.")
        if output_type is not None and not (
            isinstance(output_type, type) and issubclass(output_type, pydantic.BaseModel)
        ):
            raise ConfigurationError("output_type must be a pydantic BaseModel subclass.")
        self.model = model
        self.name = name
        self.instructions = instructions
        self.tools: tuple[Tool[..., Any], ...] = tuple(tools)
        self.client = client
        self.api: Literal["chat", "responses"] = api
        self.max_turns = max_turns
        self.model_settings: dict[str, Any] = dict(model_settings or {})
        self.output_type = output_type
        self.tool_choice = tool_choice
        self.parallel_tool_calls = parallel_tool_calls
        self.run_timeout = run_timeout
        self.max_tool_retries = max_tool_retries
        self.max_failed_turns = max_failed_turns
        self.raise_tool_errors = raise_tool_errors
        self.tool_threads = tool_threads
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._api: ModelAPI = ChatAPI() if api == "chat" else ResponsesAPI()
        self._dispatcher = Dispatcher(by_name, self._get_pool, max_tool_output_chars)
        self._request = Request(
            model=model,
            instructions=instructions,
            tool_params=[t.to_openai() if api == "chat" else t.to_responses() for t in tools],
            settings=self.model_settings,
            tool_choice=tool_choice,
            parallel_tool_calls=parallel_tool_calls,
            output_schema=_output_schema(output_type),
        )

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r}, model={self.model!r}, tools={[t.name for t in self.tools]})"

    def _get_pool(self) -> ThreadPoolExecutor:
        # Created on first use and reused by every run: no thread per call.
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        self.tool_threads, thread_name_prefix=f"agentkit-{self.name}"
                    )
        return self._pool

    async def run(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        messages: list[dict[str, Any]] | None = None,
        context: DepsT | None = None,
        session: Session | None = None,
    ) -> RunResult[OutputT]:
        """Run the loop until the model gives a final answer.

        Args:
            input: The user's message, or a list of items to add before the first request.
            messages: Earlier history (e.g. a previous ``result.messages``) to continue.
            context: Dependencies handed to tools that take ``ctx: RunContext[...]``.
            session: A session to load the history from and journal every new item to.
        """
        # Close the generator at once: it holds the session's lock until it is closed.
        async with aclosing(self._events(input, messages, context, session, stream=False)) as events:
            async for event in events:
                if isinstance(event, FinalResult):
                    return event.result  # type: ignore[no-any-return]
        raise AssertionError("the loop ended without a result")  # pragma: no cover

    def run_sync(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        messages: list[dict[str, Any]] | None = None,
        context: DepsT | None = None,
        session: Session | None = None,
    ) -> RunResult[OutputT]:
        """Run the loop from synchronous code; the same as ``run``.

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
        # One event loop per thread, kept between calls, so clients keep their connections.
        loop: asyncio.AbstractEventLoop | None = getattr(_sync_loops, "loop", None)
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
            _sync_loops.loop = loop
        return loop.run_until_complete(self.run(input, messages=messages, context=context, session=session))

    async def run_stream(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        messages: list[dict[str, Any]] | None = None,
        context: DepsT | None = None,
        session: Session | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Run the loop with streaming requests, yielding typed events; the last is ``FinalResult``."""
        async with aclosing(self._events(input, messages, context, session, stream=True)) as events:
            async for event in events:
                yield event

    async def _events(
        self,
        input: str | list[dict[str, Any]] | None,
        messages: list[dict[str, Any]] | None,
        context: Any,
        session: Session | None,
        *,
        stream: bool,
    ) -> AsyncGenerator[StreamEvent, None]:
        client = resolve_client(self.client)
        loop_events = run_loop(
            self, client, input, messages=messages, deps=context, session=session, stream=stream
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


def _output_schema(output_type: type[Any] | None) -> tuple[str, dict[str, Any]] | None:
    if output_type is None:
        return None
    from openai.lib._pydantic import to_strict_json_schema

    return output_type.__name__, to_strict_json_schema(output_type)

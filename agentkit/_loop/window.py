"""Fit what a request sends into the model's context window, by the agent's history policy.

The run's history is never changed: `Window.fit` returns the list to send. See
``agentkit.history`` for the policies and the rules of what may be dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._result import Usage
from .._wire import ModelAPI, Request
from ..exceptions import ContextWindowExceeded
from ..history import HistoryPolicy, KeepAll, Summarize
from .cost import Pricer
from .count import counting_model, fixed_tokens, item_tokens
from .summary import SUMMARY_PREFIX, summarise
from .turn import Deadline

if TYPE_CHECKING:
    from openai import AsyncOpenAI

Transcript = Callable[[], dict[str, Any]]

_OUTPUT_SETTINGS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


class Window:
    """One run's view of the history policy: token counts so far and the current summary."""

    def __init__(self, policy: HistoryPolicy, api: ModelAPI, pricer: Pricer) -> None:
        self.policy = policy
        self.api = api
        self.pricer = pricer
        self._model: str | None = None
        """The model the counts were made with."""
        self._counts: list[int] = []
        """Prompt tokens of each history item counted so far (the history only grows)."""
        self._fixed: dict[int, int] = {}
        """Tokens of instructions and tools, per request object."""
        self._summary: tuple[int, str] | None = None
        """``(index of the first item kept, summary of the items before it)``."""

    async def fit(
        self,
        client: AsyncOpenAI,
        request: Request,
        history: list[dict[str, Any]],
        *,
        deadline: Deadline,
        usage: Usage,
        transcript: Transcript,
    ) -> list[dict[str, Any]]:
        """Return what to send for ``history``.

        Raises:
            ContextWindowExceeded: Even the smallest request the policy can make is over budget.
        """
        policy = self.policy
        if isinstance(policy, KeepAll):
            return history
        budget = self._budget(request)
        if budget is None:
            return history
        if self._model is None:
            # The first count of a run may load the tokenizer (~0.7 s): not on the event loop.
            await asyncio.to_thread(self._count, request, history)
        else:
            self._count(request, history)
        fixed = self._fixed[id(request)]
        if fixed + sum(self._counts) <= budget:
            return history
        head_end = _first_user(history) + 1 if policy.keep_first_message else 0
        base = fixed + sum(self._counts[:head_end])
        reserved = policy.summary_tokens if isinstance(policy, Summarize) else 0
        cut = self._cut(history, head_end, budget - base - reserved)
        if cut is None:
            raise self._error(base, history, head_end, budget, transcript)
        if not isinstance(policy, Summarize):
            return history[:head_end] + history[cut:]
        cut, summary = await self._summary_for(
            policy, client, request, history, head_end, cut, deadline, usage
        )
        item = self.api.user_item(SUMMARY_PREFIX + summary)
        total = base + item_tokens(item, self._model or "") + sum(self._counts[cut:])
        if total > budget:
            raise ContextWindowExceeded(
                f"The history does not fit the context window even summarised: {total} prompt "
                f"tokens, budget {budget}.",
                tokens=total,
                limit=budget,
                **transcript(),
            )
        return [*history[:head_end], item, *history[cut:]]

    def _budget(self, request: Request) -> int | None:
        """Prompt tokens allowed, or ``None`` when the window is unknown (nothing is dropped)."""
        assert not isinstance(self.policy, KeepAll)
        if self.policy.max_tokens is not None:
            return self.policy.max_tokens
        info = self.pricer.info(request.model)
        if info is None:
            return None
        reserve = next((request.settings[k] for k in _OUTPUT_SETTINGS if request.settings.get(k)), None)
        return info.context_window - int(reserve or self.policy.reserve_tokens)

    def _count(self, request: Request, history: list[dict[str, Any]]) -> None:
        model = counting_model(request.model, self.pricer.info(request.model))
        if model != self._model:
            self._model, self._counts, self._fixed = model, [], {}
        if id(request) not in self._fixed:
            self._fixed[id(request)] = fixed_tokens(request.instructions, request.tool_params, model)
        self._counts.extend(item_tokens(item, model) for item in history[len(self._counts) :])

    def _cut(self, history: list[dict[str, Any]], head_end: int, room: int) -> int | None:
        """The first place to cut after which the rest fits ``room`` tokens, or ``None``."""
        rest = sum(self._counts[head_end:])
        start = head_end
        for cut in cut_points(self.api, history):
            if cut <= head_end:
                continue
            rest -= sum(self._counts[start:cut])
            start = cut
            if rest <= room:
                return cut
        return None

    def _error(
        self, fixed: int, history: list[dict[str, Any]], head_end: int, budget: int, transcript: Transcript
    ) -> ContextWindowExceeded:
        cuts = [c for c in cut_points(self.api, history) if c > head_end]
        smallest = fixed + sum(self._counts[cuts[-1] :] if cuts else self._counts[head_end:])
        return ContextWindowExceeded(
            f"The history does not fit the context window: at least {smallest} prompt tokens after "
            f"dropping every turn the {type(self.policy).__name__} policy may drop; budget {budget}.",
            tokens=smallest,
            limit=budget,
            **transcript(),
        )

    async def _summary_for(
        self,
        policy: Summarize,
        client: AsyncOpenAI,
        request: Request,
        history: list[dict[str, Any]],
        head_end: int,
        cut: int,
        deadline: Deadline,
        usage: Usage,
    ) -> tuple[int, str]:
        """``(index of the first item kept, summary of the items before it)``, summarising anew
        only when more must go than the current summary covers."""
        if self._summary is None or self._summary[0] < cut:
            start, previous = self._summary if self._summary is not None else (head_end, None)
            text = await summarise(
                policy,
                self.api,
                client,
                request.model,
                previous,
                history[start:cut],
                deadline=deadline,
                pricer=self.pricer,
                usage=usage,
            )
            self._summary = (cut, text)
        return self._summary


def cut_points(api: ModelAPI, history: list[dict[str, Any]]) -> list[int]:
    """Indexes ``i`` such that sending ``history[i:]`` keeps every call with its results."""
    points: list[int] = []
    open_calls: set[str] = set()
    after_reasoning = False
    for index, item in enumerate(history):
        if index and not open_calls and not after_reasoning:
            points.append(index)
        open_calls.update(call.tool_call_id for call in api.tool_calls_in(item))
        answered = api.result_call_id(item)
        if answered is not None:
            open_calls.discard(answered)
        after_reasoning = item.get("type") == "reasoning"
    return points


def _first_user(history: list[dict[str, Any]]) -> int:
    """The index of the first user message (-1 when there is none)."""
    return next((i for i, item in enumerate(history) if item.get("role") == "user"), -1)


def context_overflow(exc: BaseException, transcript: Transcript) -> ContextWindowExceeded | None:
    """The typed error for the API's ``context_length_exceeded`` answer, else ``None``."""
    from openai import BadRequestError

    if not isinstance(exc, BadRequestError) or exc.code != "context_length_exceeded":
        return None
    return ContextWindowExceeded(
        f"The API refused the request: the history does not fit the model's context window ({exc.message})",
        **transcript(),
    )

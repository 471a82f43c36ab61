"""``cassette()``: record real API traffic once, replay it in every test run after that.

Built on vcrpy, with what agent tests need on top: requests match on their canonical JSON body
(a changed prompt cannot replay a stale answer), drift fails with a diff, unplayed interactions
fail the test, and secrets are scrubbed by the file format itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._client import override_client
from .._loop.dispatch import substitute_tools
from .._result import ToolCall
from ..exceptions import CassetteError, CassetteNotFoundError, RequestMismatchError, UnplayedInteractionsError
from . import _guard
from ._format import decode_body, serializer
from ._matching import drift_report, endpoint, matchers
from ._transcript import Turn, parse_turn, tool_results

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from .._agent import Agent
    from .._tool import Tool

__all__ = ["Cassette", "RecordMode", "cassette"]

RecordMode = Literal["none", "once", "new", "all", "drifted"]
"""How a cassette treats requests it has no recording for.

- ``none``: replay only; a missing cassette or an unmatched request fails. The default.
- ``once``: record when the file does not exist, otherwise replay only.
- ``new``: replay what matches and record what does not, appending to the file.
- ``all``: send everything to the API and rewrite the file.
- ``drifted``: replay while requests match; from the first that does not, record the rest of
  the run and rewrite the file. A cassette that still matches is left untouched.
"""

_VCR_MODES = {"none": "none", "once": "once", "new": "new_episodes", "all": "all", "drifted": "new_episodes"}


def _tape_class() -> Any:
    from vcr.cassette import Cassette as VcrCassette

    class Tape(VcrCassette):  # type: ignore[misc]
        """vcrpy's cassette, with agentkit's mismatch reporting and ``drifted`` mode."""

        def __init__(self, *args: Any, agentkit_mode: str, ignore: Sequence[str], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.agentkit_mode = agentkit_mode
            self.ignore = ignore
            self.drifted = False
            self.errors: list[CassetteError] = []

        def can_play_response_for(self, request: Any) -> bool:
            if self.drifted:
                return False
            if super().can_play_response_for(request):
                return True
            if self.agentkit_mode == "drifted" and self._loaded_count:
                # Everything after the first drifted request depends on its new answer: record it all.
                self.drifted = True
                return False
            if self.write_protected:
                error = RequestMismatchError(self._explain(request))
                self.errors.append(error)
                raise error
            return False

        def _explain(self, request: Any) -> str:
            where = f"{request.method} {endpoint(request.uri)}"
            head = f"Cassette {self._path}: no recorded interaction matches {where}."
            same = [
                (i, r)
                for i, (r, _) in enumerate(self.data)
                if r.method == request.method and endpoint(r.uri) == endpoint(request.uri)
            ]
            unplayed = [(i, r) for i, r in same if not self.play_counts[i]]
            if not same:
                body = f"The cassette has {len(self.data)} interactions, none to that endpoint."
            elif not unplayed:
                body = f"All {len(same)} recorded requests to that endpoint were already played."
            else:
                index, recorded = unplayed[0]
                diff = drift_report(request.body, recorded.body, self.ignore)
                body = f"Compared with the next unplayed recording (interaction #{index + 1}):\n{diff}"
            hint = (
                "If the change is intended, re-record: pytest --agentkit-record=drifted, "
                "or cassette(..., record='drifted')."
            )
            return f"{head}\n{body}\n{hint}"

        def _save(self, force: bool = False) -> None:
            if self.agentkit_mode == "all" and self._loaded_count:
                # vcrpy keeps the old interactions in "all" mode; agentkit's "all" rewrites the file.
                new = self.data[self._loaded_count :]
                if new:
                    self._persist({"requests": [r for r, _ in new], "responses": [r for _, r in new]})
                return
            if self.agentkit_mode != "drifted" or not self._loaded_count:
                super()._save(force)
                return
            kept = [self.data[i] for i in range(self._loaded_count) if self.play_counts[i]]
            new = self.data[self._loaded_count :]
            if new or len(kept) < self._loaded_count:
                interactions = kept + new
                self._persist(
                    {"requests": [r for r, _ in interactions], "responses": [r for _, r in interactions]}
                )

        def unplayed(self) -> list[int]:
            return [i for i in range(self._loaded_count) if not self.play_counts[i]]

    return Tape


class Cassette:
    """A cassette in use: a context manager, and the recorded conversation for assertions.

    Make one with :func:`cassette`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        record: RecordMode,
        match: Literal["body", "sequence"],
        ignore: Sequence[str],
        install: bool,
        allow_repeats: bool,
    ) -> None:
        if record not in _VCR_MODES:
            raise ValueError(f"record must be one of {sorted(_VCR_MODES)}, not {record!r}")
        self.path = Path(path)
        """Where the cassette is read from and written to."""
        self.record = record
        """The record mode."""
        self.match = match
        self.ignore = tuple(ignore)
        self.install = install
        self.allow_repeats = allow_repeats
        matchers(match)  # Validate early.
        self._stack: ExitStack | None = None
        self._tape: Any = None
        self._replaying = True
        self.checked = False

    # --- context manager ---

    def __enter__(self) -> Cassette:
        if self.record == "none" and not self.path.is_file():
            raise CassetteNotFoundError(
                f"Cassette {self.path} does not exist and the record mode is 'none' (replay only). "
                "Record it with: pytest --agentkit-record=once (needs OPENAI_API_KEY), "
                "or cassette(..., record='once')."
            )
        replaying = self.record == "none" or (self.record == "once" and self.path.is_file())
        self._replaying = replaying
        stack = ExitStack()
        tape_cm = _tape_class().use(
            path=str(self.path),
            serializer=serializer,
            record_mode=_VCR_MODES[self.record],
            match_on=matchers(self.match, self.ignore),
            allow_playback_repeats=self.allow_repeats,
            record_on_exception=False,
            agentkit_mode=self.record,
            ignore=self.ignore,
        )
        self._tape = stack.enter_context(tape_cm)
        if self.record != "none":
            stack.enter_context(_guard.allow_network())
        # Recording without a key would record a 401: leave the client to the agent, which
        # then says that OPENAI_API_KEY is missing.
        if self.install and (replaying or os.environ.get("OPENAI_API_KEY")):
            stack.enter_context(override_client(self.client()))
        self._stack = stack
        self.checked = False
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._stack is not None
        self._stack.__exit__(exc_type, exc, tb)
        self._stack = None
        if exc_type is None and not self.checked:
            self.check()

    def check(self) -> None:
        """Raise if a request drifted (even if the code under test swallowed the error) or
        recorded interactions were never played."""
        self.checked = True
        tape = self._tape
        if tape is None:
            return
        if tape.errors:
            raise tape.errors[0]
        if self.record in ("none", "once", "new") and not self.allow_repeats:
            unplayed = tape.unplayed()
            if unplayed:
                lines = [
                    f"  #{i + 1} {tape.data[i][0].method} {endpoint(tape.data[i][0].uri)}" for i in unplayed
                ]
                recorded_now = len(tape.data) - tape._loaded_count
                if recorded_now:
                    why = (
                        f"\n{recorded_now} new interaction(s) were recorded instead: the requests changed, "
                        "so the old recordings are stale ('new' only appends). Re-record with "
                        "--agentkit-record=drifted (keeps what still matches, replaces the rest) or =all."
                    )
                else:
                    why = (
                        "\nThe code under test made fewer requests than when it was recorded. "
                        "Re-record with --agentkit-record=drifted if that is intended."
                    )
                raise UnplayedInteractionsError(
                    f"Cassette {self.path}: {len(unplayed)} recorded interaction(s) were never requested:\n"
                    + "\n".join(lines)
                    + why
                )

    # --- clients ---

    def client(self, *, max_retries: int = 2) -> AsyncOpenAI:
        """An ``AsyncOpenAI`` client for this cassette: the real key when recording, a dummy one
        when replaying (the request never leaves the process)."""
        from openai import AsyncOpenAI

        key = os.environ.get("OPENAI_API_KEY") or "sk-agentkit-replay-placeholder"
        return AsyncOpenAI(api_key=key, max_retries=max_retries)

    # --- the recorded conversation ---

    @property
    def turns(self) -> list[Turn]:
        """Every interaction in the cassette, read as a conversation turn."""
        if self._tape is None:
            raise CassetteError("Open the cassette (with cassette(...):) before reading its turns.")
        return [
            parse_turn(
                request.uri,
                decode_body(request.body),
                int(response["status"]["code"]),
                decode_body(response["body"]["string"], response.get("headers")),
            )
            for request, response in self._tape.data
        ]

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The recorded tool-call trajectory: every call the model made, in order."""
        return [call for turn in self.turns for call in turn.tool_calls]

    @property
    def tool_results(self) -> dict[str, str]:
        """Recorded tool results by call id, as sent back to the model."""
        return tool_results(self.turns)

    @contextmanager
    def recorded_tools(self, agent: Agent[Any, Any]) -> Iterator[list[ToolCall]]:
        """Answer the agent's tool calls from the recording inside the block.

        When the cassette replays, no tool function runs, so a run with side effects (payments,
        e-mails, writes) can be replayed safely: each call gets the result recorded for its call
        id, which the replayed reply supplies, and a call with no recorded result raises
        ``CassetteError``. When the cassette records, the real tools run (once, now) and their
        results go into the recording, so one test both records and later replays.

        Nothing is changed on ``agent``; the substitution holds for this context only.

        Yields:
            The calls answered so far, in the order the agent made them.
        """
        answered: list[ToolCall] = []
        mine = {id(t) for t in agent.tools}
        replaying = self._replaying
        results = self.tool_results if replaying else {}

        def stub(tool: Tool[..., Any]) -> Tool[..., Any]:
            async def recorded(ctx: Any, **kwargs: Any) -> Any:
                answered.append(ToolCall(ctx.tool_call_id, tool.name, json.dumps(kwargs, default=str)))
                if not replaying:
                    args = (ctx,) if tool.takes_context else ()
                    if tool.is_async:
                        return await tool.function(*args, **kwargs)
                    return await asyncio.to_thread(tool.function, *args, **kwargs)
                if ctx.tool_call_id not in results:
                    raise CassetteError(
                        f"Cassette {self.path} has no recorded result for "
                        f"{tool.name!r} call {ctx.tool_call_id}."
                    )
                return results[ctx.tool_call_id]

            return dataclasses.replace(tool, function=recorded, is_async=True, takes_context=True)

        stubs: dict[int, Tool[..., Any]] = {}

        def substitute(tool: Tool[..., Any]) -> Tool[..., Any]:
            if id(tool) not in mine:
                return tool
            if id(tool) not in stubs:
                stubs[id(tool)] = stub(tool)
            return stubs[id(tool)]

        with substitute_tools(substitute):
            yield answered

    def assert_trajectory(self, messages: Sequence[dict[str, Any]]) -> None:
        """Assert that a run made the recorded tool calls: same names, arguments and order.

        Args:
            messages: ``result.messages`` (either API's wire format).
        """
        actual = [(c.name, c.parsed_arguments()) for c in _calls_in(messages)]
        recorded = [(c.name, c.parsed_arguments()) for c in self.tool_calls]
        if actual != recorded:
            lines = ["The tool-call trajectory differs from the recording:"]
            for index in range(max(len(actual), len(recorded))):
                a = actual[index] if index < len(actual) else None
                r = recorded[index] if index < len(recorded) else None
                mark = "  " if a == r else "! "
                lines.append(f"{mark}#{index + 1} recorded {r}, ran {a}")
            raise AssertionError("\n".join(lines))


def _calls_in(messages: Sequence[dict[str, Any]]) -> list[ToolCall]:
    calls = []
    for item in messages:
        if item.get("type") == "function_call":
            calls.append(ToolCall(item.get("call_id", ""), item.get("name", ""), item.get("arguments") or ""))
        for tc in item.get("tool_calls") or ():
            fn = tc.get("function") or {}
            calls.append(ToolCall(tc.get("id", ""), fn.get("name", ""), fn.get("arguments") or ""))
    return calls


def cassette(
    path: str | os.PathLike[str],
    record: RecordMode = "none",
    *,
    match: Literal["body", "sequence"] = "body",
    ignore: Sequence[str] = (),
    install: bool = True,
    allow_repeats: bool = False,
) -> Cassette:
    """Record or replay the OpenAI traffic inside a ``with`` block.

    Example::

        with cassette("tests/cassettes/weather.yaml", record="once"):
            result = agent.run_sync("Weather in Paris?")

    Args:
        path: The YAML file.
        record: See :data:`RecordMode`; ``"none"`` (replay only) by default.
        match: ``"body"`` matches each request on its canonical JSON (model, messages or input,
            tools, settings). ``"sequence"`` only checks method and endpoint and replays in
            recorded order, for recordings whose exact requests cannot be reproduced.
        ignore: More top-level body fields to leave out of matching (e.g. ``["temperature"]``).
        install: Make agents without an explicit ``client=`` use :meth:`Cassette.client` (when
            replaying, or recording with ``OPENAI_API_KEY`` set).
        allow_repeats: Let a recorded interaction be played more than once (and not require
            every interaction to be played).

    Raises:
        CassetteNotFoundError: Replay-only and the file does not exist (on entering).
        RequestMismatchError: A request matches no recording; the message holds a diff.
        UnplayedInteractionsError: On leaving the block, recorded interactions were never requested.
    """
    return Cassette(path, record, match, ignore, install, allow_repeats)

"""``cassette()``: record real API traffic once, replay it in every test run after that.

Built on vcrpy, with what agent tests need on top: requests match on their canonical JSON body
(a changed prompt cannot replay a stale answer), drift fails with a diff, unplayed interactions
fail the test, and secrets are scrubbed by the file format itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._client import override_client
from .._loop.dispatch import substitute_tools
from .._result import ToolCall
from .._serialize import to_json
from ..exceptions import CassetteError, CassetteNotFoundError, ConfigurationError, UnplayedInteractionsError
from . import _guard
from ._drift import explain
from ._format import decode_body, serializer
from ._matching import endpoint, matchers
from ._transcript import Turn, parse_turn, tool_results
from ._vcr import skipped_patchers, tape_class

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
EXTRA_HINT = "pip install 'agentkit-openai[testing]'"


def require_testing_extra() -> None:
    """Raise ``ConfigurationError`` naming the extra when vcrpy or PyYAML is not installed."""
    missing = [name for name in ("yaml", "vcr") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigurationError(
            f"agentkit.testing cassettes need the testing extra (module {missing[0]!r} is missing): "
            f"{EXTRA_HINT}"
        )


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
        record_hosts: Sequence[str] = (),
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
        self.record_hosts = tuple(record_hosts)
        """Hosts whose traffic is recorded besides the model's."""
        matchers(match)  # Validate early.
        self._stack: ExitStack | None = None
        self._tape: Any = None
        self._replaying = True
        self._before: bytes | None = None
        self.outcome: Literal["written", "rewritten", "left alone"] | None = None
        """After the block: whether the file was written anew, rewritten, or left alone."""
        self.checked = False

    # --- context manager ---

    def __enter__(self) -> Cassette:
        __tracebackhide__ = True
        require_testing_extra()
        self._before = self.path.read_bytes() if self.path.is_file() else None
        if self.record == "none" and not self.path.is_file():
            raise CassetteNotFoundError(
                f"Cassette {self.path} does not exist and the record mode is 'none' (replay only). "
                "Record it with: pytest --agentkit-record=once (needs OPENAI_API_KEY), "
                "or cassette(..., record='once')."
            )
        replaying = self.record == "none" or (self.record == "once" and self.path.is_file())
        self._replaying = replaying
        stack = ExitStack()
        tape_cm = tape_class().use(
            path=str(self.path),
            serializer=serializer,
            record_mode=_VCR_MODES[self.record],
            match_on=matchers(self.match, self.ignore),
            allow_playback_repeats=self.allow_repeats,
            record_on_exception=False,
            agentkit_mode=self.record,
            record_hosts=self.record_hosts,
            skip_patchers=skipped_patchers(self.record_hosts),
            explain=lambda request, interactions: explain(self.path, request, interactions, self.ignore),
        )
        self._tape = stack.enter_context(tape_cm)
        stack.enter_context(_guard.cassette_answers())
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
        __tracebackhide__ = True
        assert self._stack is not None
        self._stack.__exit__(exc_type, exc, tb)
        self._stack = None
        after = self.path.read_bytes() if self.path.is_file() else None
        if after is None or after == self._before:
            self.outcome = "left alone"
        else:
            self.outcome = "written" if self._before is None else "rewritten"
        if exc_type is None and not self.checked:
            self.check()

    def check(self) -> None:
        """Raise if a request drifted (even if the code under test swallowed the error) or
        recorded interactions were never played."""
        __tracebackhide__ = True
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
                recorded_now = tape.recorded_now()
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
                request.method,
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
                answered.append(ToolCall(ctx.tool_call_id, tool.name, to_json(kwargs)))
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
    record_hosts: Sequence[str] = (),
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
        record_hosts: Hosts whose requests are recorded and replayed too. By default only model
            traffic is: requests sent by an ``openai`` SDK client (told by the SDK's own headers,
            whatever the host) or to the OpenAI API. Every other request passes through to its
            real server, unrecorded: the application's own HTTP endpoints, a local database API.

    Raises:
        ConfigurationError: The ``testing`` extra (vcrpy, PyYAML) is not installed (on entering).
        CassetteNotFoundError: Replay-only and the file does not exist (on entering).
        RequestMismatchError: A request matches no recording; the message holds a diff.
        UnplayedInteractionsError: On leaving the block, recorded interactions were never requested.
    """
    return Cassette(path, record, match, ignore, install, allow_repeats, record_hosts)

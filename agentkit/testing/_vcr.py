"""The only module that knows vcrpy's internals: a vcrpy ``Cassette`` with agentkit's rules.

vcrpy has no public hooks for what agentkit needs (record only model traffic, ``drifted`` mode,
a rewrite in ``all`` mode, a drift report instead of vcrpy's error), so ``Tape`` overrides some
of its methods and reads some of its attributes. Everything it relies on is listed in
``_RELIES_ON`` and checked by :func:`check_vcrpy`, which the test suite runs: a vcrpy release
that changes any of it fails that test with a message naming what changed, instead of breaking
replays in subtle ways. The supported range is pinned in ``pyproject.toml`` (``testing`` extra).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from ..exceptions import CassetteError, RequestMismatchError
from ._traffic import is_model_request

__all__ = ["SUPPORTED_VCRPY", "check_vcrpy", "skipped_patchers", "tape_class"]

SUPPORTED_VCRPY = ">=9.4.2,<10"
"""The vcrpy versions this module was checked against (the ``testing`` extra pins the same)."""

# Methods Tape overrides or calls, and attributes it reads, on vcr.cassette.Cassette.
_RELIES_ON_METHODS = ("can_play_response_for", "filter_request", "append", "_load", "_save", "_persist")
_RELIES_ON_ATTRIBUTES = ("data", "play_counts", "_loaded_count", "_path", "write_protected")
# What the stubs must call on the cassette for every request, so that Tape's overrides decide.
_STUB_CALLS = ("can_play_response_for", "filter_request", "append")
# The HTTP libraries the openai SDK sends through: httpx2, and aiohttp for DefaultAioHttpClient.
_MODEL_PATCHERS = ("httpx2", "aiohttp")


def skipped_patchers(record_hosts: Sequence[str]) -> tuple[str, ...]:
    """vcrpy's patchers to leave out: all but the SDK's libraries, unless other hosts are recorded.

    Besides saving work, this keeps vcrpy away from the application's own HTTP clients: its
    ``http.client`` stub undoes every patch, process-wide, while a real request is in flight,
    so a service running in a thread of the test process would reach the model unrecorded
    while the test waits for the service's answer.
    """
    if record_hosts:
        return ()
    from vcr.patch import PATCHER_NAMES

    return tuple(name for name in PATCHER_NAMES if name not in _MODEL_PATCHERS)


def check_vcrpy() -> list[str]:
    """Return what the installed vcrpy lacks of what ``Tape`` relies on (empty when all is there)."""
    import vcr
    from vcr.cassette import Cassette as VcrCassette
    from vcr.stubs import httpx_stubs

    problems = [
        f"vcr.cassette.Cassette.{name}() is gone"
        for name in _RELIES_ON_METHODS
        if not callable(getattr(VcrCassette, name, None))
    ]
    probe = VcrCassette("agentkit-probe.yaml")
    problems += [
        f"vcr.cassette.Cassette no longer has the attribute {name!r}"
        for name in _RELIES_ON_ATTRIBUTES
        if not hasattr(probe, name)
    ]
    from vcr.patch import PATCHER_NAMES

    problems += [
        f"vcrpy has no patcher named {name!r}" for name in _MODEL_PATCHERS if name not in PATCHER_NAMES
    ]
    if "skip_patchers" not in inspect.signature(VcrCassette.__init__).parameters:
        problems.append("vcr.cassette.Cassette() no longer takes skip_patchers")
    stubs = inspect.getsource(httpx_stubs)
    problems += [
        f"vcrpy's httpx stubs no longer call cassette.{name}()" for name in _STUB_CALLS if name not in stubs
    ]
    if problems:
        problems.append(
            f"(vcrpy {vcr.__version__} is installed; agentkit.testing supports vcrpy{SUPPORTED_VCRPY})"
        )
    return problems


# Type-checked as a subclass of vcrpy's (untyped) Cassette, whose methods it extends.
_VcrBase: Any = object


class _Rules(_VcrBase):  # type: ignore[misc]
    """agentkit's rules over vcrpy's ``Cassette``: model traffic only, agentkit's record modes and
    drift reports. Combined with vcrpy's class by :func:`tape_class`, so vcrpy is imported only
    when a cassette is used."""

    def __init__(
        self,
        *args: Any,
        agentkit_mode: str,
        record_hosts: Sequence[str],
        explain: Callable[[Any, list[tuple[int, Any]]], str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.agentkit_mode = agentkit_mode
        self.record_hosts = tuple(record_hosts)
        self.explain = explain
        self.drifted = False
        self.loading = False
        self.errors: list[CassetteError] = []

    def recordable(self, request: Any) -> bool:
        return is_model_request(request.uri, request.headers, self.record_hosts)

    def _load(self) -> None:
        # Loaded interactions were filtered when they were recorded (and their headers were
        # trimmed since): take them all.
        self.loading = True
        try:
            super()._load()
        finally:
            self.loading = False

    def append(self, request: Any, response: Any) -> None:
        if self.loading or self.recordable(request):
            super().append(request, response)

    def filter_request(self, request: Any) -> Any:
        # None lets a request the cassette does not hold through to the real server.
        return super().filter_request(request) if self.recordable(request) else None

    def can_play_response_for(self, request: Any) -> bool:
        __tracebackhide__ = True
        if self.drifted or not self.recordable(request):
            return False
        if super().can_play_response_for(request):
            return True
        if self.agentkit_mode == "drifted" and self._loaded_count:
            # Everything after the first drifted request depends on its new answer: record it all.
            self.drifted = True
            return False
        if self.write_protected:
            error = RequestMismatchError(self.explain(request, self.interactions()))
            self.errors.append(error)
            raise error
        return False

    def interactions(self) -> list[tuple[int, Any]]:
        """``(times played, request)`` of every interaction, in order."""
        return [(self.play_counts[i], r) for i, (r, _) in enumerate(self.data)]

    def _save(self, force: bool = False) -> None:
        loaded = self._loaded_count
        if self.agentkit_mode == "all" and loaded:
            # vcrpy keeps the old interactions in "all" mode; agentkit's "all" rewrites the file.
            new = self.data[loaded:]
            if new:
                self._persist({"requests": [r for r, _ in new], "responses": [r for _, r in new]})
            return
        if self.agentkit_mode != "drifted" or not loaded:
            super()._save(force)
            return
        kept = [self.data[i] for i in range(loaded) if self.play_counts[i]]
        new = self.data[loaded:]
        if new or len(kept) < loaded:
            interactions = kept + new
            self._persist(
                {"requests": [r for r, _ in interactions], "responses": [r for _, r in interactions]}
            )

    def unplayed(self) -> list[int]:
        return [i for i in range(self._loaded_count) if not self.play_counts[i]]

    def recorded_now(self) -> int:
        return int(len(self.data) - self._loaded_count)


def tape_class() -> Any:
    """The ``Tape`` class: vcrpy's ``Cassette`` under agentkit's rules (vcrpy is imported here)."""
    from vcr.cassette import Cassette as VcrCassette

    return type("Tape", (_Rules, VcrCassette), {})

"""pytest plugin registered through the ``pytest11`` entry point.

- Every test runs with the network guard on: a connection to anything but loopback raises
  ``NetworkBlockedError``. Opt out with ``@pytest.mark.allow_network`` or
  ``--agentkit-allow-network``.
- The ``agent_cassette`` fixture opens ``cassettes/<module>/<test>.yaml`` next to the test file,
  in the mode given by ``--agentkit-record`` (``none``, replay only, by default). Options for one
  test go in ``@pytest.mark.agent_cassette(match=..., ignore=..., path=...)``.
- A test whose cassette was not fully played fails.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ._cassette import Cassette, cassette
from ._guard import block_network

_RECORD_MODES = ("none", "once", "new", "all", "drifted")
_CASSETTE_KEY = pytest.StashKey[Cassette]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agentkit", "agentkit record/replay")
    group.addoption(
        "--agentkit-record",
        choices=_RECORD_MODES,
        default="none",
        help="Record mode of agent_cassette: none (replay only, default), once, new, all, or "
        "drifted (re-record only the cassettes that no longer match).",
    )
    group.addoption(
        "--agentkit-allow-network",
        action="store_true",
        default=False,
        help="Turn off the network guard for every test.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_network: let this test connect to non-loopback addresses.")
    config.addinivalue_line(
        "markers",
        "agent_cassette(path=None, match='body', ignore=(), record=None): "
        "options for the agent_cassette fixture.",
    )


def _network_allowed(item: pytest.Item) -> bool:
    return (
        bool(item.config.getoption("--agentkit-allow-network"))
        or item.get_closest_marker("allow_network") is not None
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with _guarded(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with _guarded(item):
        result = yield
    # The test passed: now fail it if its cassette was not fully played, or a request drifted
    # and the code under test swallowed the error.
    used = item.stash.get(_CASSETTE_KEY, None)
    if used is not None:
        used.check()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    with _guarded(item):
        return (yield)


@contextmanager
def _guarded(item: pytest.Item) -> Iterator[None]:
    """The network guard for one phase of one test, unless the test may use the network."""
    if _network_allowed(item):
        yield
    else:
        with block_network():
            yield


def cassette_path(item: pytest.Item) -> Path:
    """``<test dir>/cassettes/<module>/<test name>.yaml``."""
    test_file = Path(str(item.path))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name).strip("_")
    return test_file.parent / "cassettes" / test_file.stem / f"{name}.yaml"


@pytest.fixture
def agent_cassette(request: pytest.FixtureRequest) -> Iterator[Cassette]:
    """A cassette named after the test; agents without ``client=`` use it.

    Replay-only unless pytest runs with ``--agentkit-record``. A missing cassette, a drifted
    request, or an unplayed interaction fails the test.
    """
    marker = request.node.get_closest_marker("agent_cassette")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    path = options.pop("path", None) or cassette_path(request.node)
    record = options.pop("record", None) or request.config.getoption("--agentkit-record")
    used = cassette(path, record, **options)
    with used:
        request.node.stash[_CASSETTE_KEY] = used
        yield used
        # The check already ran (and failed the test) in pytest_runtest_call; don't raise twice.
        used.checked = True

"""pytest plugin registered through the ``pytest11`` entry point.

It loads with the base install and stays inert until used: nothing here needs vcrpy or PyYAML
until a test asks for ``agent_cassette``, and that test then fails with one line naming the
``testing`` extra.

- The network guard (``--agentkit-network`` or the ini option ``agentkit_network``):
  ``model`` (the default) fails model requests that no cassette or scripted model answers and
  that are not to loopback; ``loopback`` blocks every connection to anything but loopback;
  ``off`` turns it off. ``@pytest.mark.allow_network`` turns it off for one test.
- The ``agent_cassette`` fixture opens ``cassettes/<module>/<test>.yaml`` next to the test file,
  in the mode given by ``--agentkit-record`` (``none``, replay only, by default). Options for one
  test go in ``@pytest.mark.agent_cassette(match=..., ignore=..., path=..., record_hosts=...)``.
- A test whose cassette was not fully played fails. A failure raised by the kit (a drift, a
  missing cassette, a blocked request) is reported in a few lines, without the frames of the
  SDK, vcrpy and agentkit it passed through (``--fulltrace`` shows them).
- After a session that recorded, the terminal summary lists the cassettes written, rewritten
  and left alone.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from ..exceptions import CassetteError, ConfigurationError
from ._cassette import Cassette, cassette
from ._guard import NETWORK_MODES, NetworkMode, block_network

_RECORD_MODES = ("none", "once", "new", "all", "drifted")
_CASSETTE_KEY = pytest.StashKey[Cassette]()
_OUTCOMES_KEY = pytest.StashKey[list[tuple[str, str]]]()


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
        "--agentkit-network",
        choices=NETWORK_MODES,
        default=None,
        help="Network guard: model (block model requests nothing answers; the default), loopback "
        "(block everything but loopback) or off. Overrides the ini option agentkit_network.",
    )
    group.addoption(
        "--agentkit-allow-network",
        action="store_true",
        default=False,
        help="Same as --agentkit-network=off.",
    )
    parser.addini(
        "agentkit_network",
        "agentkit's network guard: model (default), loopback or off.",
        default="model",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_network: turn agentkit's network guard off for this test.")
    config.addinivalue_line(
        "markers",
        "agent_cassette(path=None, match='body', ignore=(), record=None, record_hosts=()): "
        "options for the agent_cassette fixture.",
    )
    mode = config.getini("agentkit_network")
    if mode not in NETWORK_MODES:
        raise pytest.UsageError(f"agentkit_network must be one of {', '.join(NETWORK_MODES)}, not {mode!r}")
    config.stash[_OUTCOMES_KEY] = []


def network_mode(item: pytest.Item) -> NetworkMode:
    """The guard's mode for one test: the marker, then the command line, then the ini file."""
    config = item.config
    if item.get_closest_marker("allow_network") is not None or config.getoption("--agentkit-allow-network"):
        return "off"
    return cast(NetworkMode, config.getoption("--agentkit-network") or config.getini("agentkit_network"))


@contextmanager
def _guarded(item: pytest.Item) -> Iterator[None]:
    with block_network(mode=network_mode(item)):
        yield


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


def _kit_error(error: BaseException | None) -> CassetteError | None:
    """The kit's own error behind a failure: itself, a cause, or a member of an exception group."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, CassetteError):
            return error
        for member in getattr(error, "exceptions", ()):
            found = _kit_error(member)
            if found is not None:
                return found
        error = error.__cause__ or error.__context__
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    error = _kit_error(call.excinfo.value) if call.excinfo is not None else None
    if report.failed and error is not None and not item.config.getoption("fulltrace"):
        # Only the test's own line, then the kit's message: the frames between (the agent
        # loop, the SDK, httpx, vcrpy) say nothing about a drifted prompt.
        assert call.excinfo is not None
        where = [e for e in call.excinfo.traceback if Path(str(e.path)) == Path(str(item.path))]
        lines = []
        if where:
            entry = where[-1]
            lines.append(f"{entry.path}:{entry.lineno + 1}: in {entry.name}")
            lines.append(f"    {str(entry.statement).strip()}")
        message = f"{type(error).__name__}: {error}".splitlines()
        lines += [f"E   {line}" for line in message]
        report.longrepr = "\n".join(lines)
    return report


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
    problem = None
    try:
        used.__enter__()
    except ConfigurationError as error:
        problem = str(error)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    try:
        request.node.stash[_CASSETTE_KEY] = used
        yield used
        # The check already ran (and failed the test) in pytest_runtest_call; don't raise twice.
        used.checked = True
    finally:
        used.__exit__(None, None, None)
        if record != "none" and used.outcome is not None:
            request.config.stash[_OUTCOMES_KEY].append((used.outcome, str(used.path)))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    outcomes = config.stash.get(_OUTCOMES_KEY, [])
    if not outcomes:
        return
    terminalreporter.section(
        f"agentkit cassettes (--agentkit-record={config.getoption('--agentkit-record')})"
    )
    root = Path(str(config.rootpath))
    # A cassette used by several tests counts once, as the most it went through.
    rank = {"written": 0, "rewritten": 1, "left alone": 2}
    final: dict[str, str] = {}
    for done, path in outcomes:
        if path not in final or rank[done] < rank[final[path]]:
            final[path] = done
    for path, done in sorted(final.items(), key=lambda item: (rank[item[1]], item[0])):
        shown = Path(path).relative_to(root) if Path(path).is_relative_to(root) else Path(path)
        terminalreporter.write_line(f"{done:>10}: {shown}")
    counts = {o: sum(1 for d in final.values() if d == o) for o in rank}
    terminalreporter.write_line(
        f"{counts['written']} written, {counts['rewritten']} rewritten, {counts['left alone']} left alone"
    )

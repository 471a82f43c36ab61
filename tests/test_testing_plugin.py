"""The network guard and the pytest plugin (fixture, marker, options)."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import openai
import pytest

from agentkit.exceptions import NetworkBlockedError
from agentkit.testing import allow_network, block_network

# TEST-NET-1 (RFC 5737): never routed, so nothing leaves the machine even if the guard failed.
UNROUTABLE = ("192.0.2.1", 443)


def test_the_plugin_blocks_non_loopback_connections() -> None:
    with socket.socket() as sock, pytest.raises(NetworkBlockedError, match=r"192\.0\.2\.1:443"):
        sock.connect(UNROUTABLE)
    with socket.socket() as sock, pytest.raises(NetworkBlockedError):
        sock.connect_ex(UNROUTABLE)


def test_loopback_stays_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass


def test_udp_datagrams_to_non_loopback_addresses_are_blocked() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(NetworkBlockedError, match=r"192\.0\.2\.1:53"):
            sock.sendto(b"x", ("192.0.2.1", 53))
        with pytest.raises(NetworkBlockedError):
            sock.sendto(b"x", 0, ("192.0.2.1", 53))
        with pytest.raises(NetworkBlockedError):
            sock.sendmsg([b"x"], [], 0, ("192.0.2.1", 53))


def test_udp_datagrams_to_loopback_stay_allowed() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client,
    ):
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        client.sendto(b"one", server.getsockname())
        client.sendmsg([b"two"], [], 0, server.getsockname())
        assert [server.recv(16), server.recv(16)] == [b"one", b"two"]


async def test_the_openai_client_gets_the_guard_error() -> None:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url="https://api.openai.com/v1", max_retries=0)
    with pytest.raises(NetworkBlockedError):
        await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])


def test_sync_openai_client_gets_the_guard_error() -> None:
    client = openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1", max_retries=0)
    with pytest.raises(NetworkBlockedError):
        client.models.list()


def test_allow_network_lifts_and_restores_the_guard() -> None:
    with allow_network(), socket.socket() as sock:
        sock.setblocking(False)
        sock.connect_ex(UNROUTABLE)  # not blocked: returns an errno instead of raising
    with socket.socket() as sock, pytest.raises(NetworkBlockedError):
        sock.connect(UNROUTABLE)


def test_block_network_outside_pytest_nests_and_restores() -> None:
    real = socket.socket.connect
    with block_network(allow_hosts=["192.0.2.1"]), block_network(), socket.socket() as sock:
        sock.setblocking(False)
        sock.connect_ex(UNROUTABLE)  # allowed by the outer block's allow-list
    assert socket.socket.connect is real  # the plugin's own block for this test is still on


@pytest.mark.allow_network
def test_the_marker_turns_the_guard_off() -> None:
    with socket.socket() as sock:
        sock.setblocking(False)
        sock.connect_ex(UNROUTABLE)


# --- the plugin end to end, in a separate pytest run ---

SCRIPTED_TEST = """
    from agentkit.testing import ScriptedModel, reply

    async def test_ask(agent_cassette):
        model = ScriptedModel([reply("one"), reply("two")])
        client = model.client()
        for text in {questions}:
            await client.chat.completions.create(model="m", messages=[{{"role": "user", "content": text}}])
"""


def write_test(pytester: pytest.Pytester, questions: list[str]) -> None:
    pytester.makepyfile(test_demo=textwrap.dedent(SCRIPTED_TEST.format(questions=questions)))
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")


def test_fixture_replays_records_and_fails_on_leftovers(pytester: pytest.Pytester) -> None:
    write_test(pytester, ["a", "b"])
    # Replay-only by default: no cassette yet, so the test fails.
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CassetteNotFoundError*"])
    # Record it (the scripted model stands in for the API), then replay it.
    pytester.runpytest_subprocess("--agentkit-record=once").assert_outcomes(passed=1)
    assert (pytester.path / "cassettes" / "test_demo" / "test_ask.yaml").is_file()
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    # The code now makes one request fewer: the leftover interaction fails the test.
    write_test(pytester, ["a"])
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*UnplayedInteractionsError*1 recorded interaction*"])
    # Re-record only what drifted, then it replays cleanly.
    pytester.runpytest_subprocess("--agentkit-record=drifted").assert_outcomes(passed=1)
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_fixture_reports_drift(pytester: pytest.Pytester) -> None:
    write_test(pytester, ["a", "b"])
    pytester.runpytest_subprocess("--agentkit-record=once").assert_outcomes(passed=1)
    write_test(pytester, ["a", "changed"])
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RequestMismatchError*", "*messages[[]0[]] is the first*"])


GUARD_TESTS = """
import socket
import openai, pytest
from agentkit.exceptions import NetworkBlockedError
from agentkit.testing import ScriptedModel, reply

OWN_ADDRESS = {own!r}


def test_own_service_on_a_non_loopback_address():
    # Like a docker-compose service "db": the application's own traffic, not the model's.
    with socket.create_server((OWN_ADDRESS, 0)) as server:
        with socket.create_connection(server.getsockname(), timeout=5):
            server.accept()[0].close()


def test_the_openai_api_is_blocked():
    client = openai.OpenAI(api_key="sk-test", max_retries=0)
    with pytest.raises(NetworkBlockedError, match="OpenAI API|model request"):
        client.chat.completions.create(model="m", messages=[{{"role": "user", "content": "hi"}}])


def test_a_remote_model_base_url_is_blocked():
    client = openai.OpenAI(api_key="sk-test", base_url="http://models.internal.example/v1", max_retries=0)
    with pytest.raises(NetworkBlockedError, match="no cassette or scripted model answers it"):
        client.chat.completions.create(model="m", messages=[{{"role": "user", "content": "hi"}}])


def test_a_model_on_loopback_passes(model_url):
    client = openai.OpenAI(api_key="sk-test", base_url=model_url, max_retries=0)
    done = client.chat.completions.create(model="m", messages=[{{"role": "user", "content": "hi"}}])
    assert done.choices[0].message.content == "model says: hi"


def test_a_scripted_model_passes():
    client = ScriptedModel([reply("scripted")]).sync_client()
    done = client.chat.completions.create(model="m", messages=[{{"role": "user", "content": "hi"}}])
    assert done.choices[0].message.content == "scripted"
"""


def own_address() -> str | None:
    """This machine's own non-loopback IPv4 address (no packet is sent), or None."""
    with allow_network(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_default_guard_blocks_only_unanswered_model_requests(pytester: pytest.Pytester) -> None:
    from testing_projects import INI, SERVERS

    own = own_address()
    if own is None:
        pytest.skip("this machine has no non-loopback address to play a docker-compose service")
    pytester.makeconftest(SERVERS)
    pytester.makepyfile(test_guard=GUARD_TESTS.format(own=own))
    pytester.makeini(INI)
    # The default is "model": the application's own traffic passes, model traffic is checked.
    pytester.runpytest_subprocess().assert_outcomes(passed=5)
    # "loopback" on the command line blocks the non-loopback service too.
    result = pytester.runpytest_subprocess("--agentkit-network=loopback")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_own_service_on_a_non_loopback_address*", "*NetworkBlockedError*loopback*"]
    )
    # So does the one-line opt-in in the ini file; the command line wins over it.
    pytester.makeini(INI + "agentkit_network = loopback\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=4, failed=1)
    pytester.runpytest_subprocess("--agentkit-network=model").assert_outcomes(passed=5)
    # "off", and the marker, turn the guard off (only the tests that stay on this machine run).
    offline = "own_service or loopback or scripted"
    pytester.runpytest_subprocess("--agentkit-network=off", "-k", offline).assert_outcomes(passed=3)


def test_a_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    pytester.makeini("[pytest]\nagentkit_network = sometimes\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*agentkit_network must be one of model, loopback, off*"])


def test_the_marker_turns_the_guard_off_in_a_user_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_net="""
        import socket, pytest

        @pytest.mark.allow_network
        def test_allowed():
            s = socket.socket(); s.setblocking(False); s.connect_ex(("192.0.2.1", 80)); s.close()

        def test_blocked():
            s = socket.socket(); s.setblocking(False); s.connect_ex(("192.0.2.1", 80)); s.close()
        """
    )
    result = pytester.runpytest_subprocess("--agentkit-network=loopback")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*NetworkBlockedError*"])


def test_the_kit_relies_only_on_what_the_installed_vcrpy_has() -> None:
    from agentkit.testing._vcr import check_vcrpy

    problems = check_vcrpy()
    assert not problems, (
        "vcrpy changed what agentkit/testing/_vcr.py relies on; adapt _vcr.py and the pin in "
        "pyproject.toml:\n" + "\n".join(problems)
    )


# --- installed without the testing extra ---


def _closure(*names: str) -> dict[str, Any]:
    """The installed distributions ``names`` need (base requirements only, no extras)."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, Any] = {}
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            found[name] = distribution(name)
        except PackageNotFoundError:
            continue
        for line in found[name].requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


def fresh_venv_without_the_extra(where: Path) -> Path:
    """A new virtualenv holding agentkit's base requirements and pytest, and nothing else.

    Built offline from what this environment has installed: each distribution of the closure is
    linked into the new site-packages (its packages and its metadata, so pytest finds agentkit's
    ``pytest11`` entry point the way it would after ``pip install agentkit-openai pytest``).
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    done = subprocess.run(
        [str(where / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    site = Path(done.stdout.strip())
    for name, dist in _closure("agentkit-openai", "pytest").items():
        tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in tops:
            source = Path(str(dist.locate_file(top)))
            if source.suffix == ".pth" and name == "agentkit-openai":
                # The editable install's path file: the project root, where agentkit lives.
                (site / source.name).write_text(source.read_text())
            elif source.exists() and not (site / top).exists() and top != "__pycache__":
                (site / top).symlink_to(source)
    return where / "bin" / "python"


def test_installed_without_the_testing_extra(tmp_path: Path) -> None:
    try:
        python = fresh_venv_without_the_extra(tmp_path / "venv")
    except (subprocess.CalledProcessError, OSError) as error:
        pytest.skip(f"cannot build a fresh virtualenv offline here: {error}")
    missing = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('yaml'), u.find_spec('vcr'))"],
        capture_output=True,
        text=True,
    )
    assert missing.stdout.strip() == "None None", missing.stdout + missing.stderr
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_one.py").write_text(
        "def test_one():\n    assert 1 + 1 == 2\n\n\ndef test_cassette(agent_cassette):\n    pass\n"
    )

    def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )

    # The plugin loads (pytest lists it) and stays out of the way of an ordinary test.
    plain = pytest_run("test_one.py::test_one")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "agentkit" in plain.stdout  # "plugins: agentkit-..."
    # The fixture without the extra: one line that names the extra.
    fixture = pytest_run("test_one.py::test_cassette")
    assert fixture.returncode == 1
    assert "1 error" in fixture.stdout
    error = fixture.stdout.split(" ERRORS ", 1)[1].split("short test summary", 1)[0]
    lines = [line for line in error.splitlines() if line.strip("=_ ") and not line.startswith("_")]
    assert len(lines) == 1, error
    assert "pip install 'agentkit-openai[testing]'" in lines[0]

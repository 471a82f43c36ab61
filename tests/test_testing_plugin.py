"""The network guard and the pytest plugin (fixture, marker, options)."""

from __future__ import annotations

import socket
import textwrap

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


def test_guard_in_a_plain_test_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_net="""
        import socket, pytest

        def test_blocked():
            socket.create_connection(("192.0.2.1", 80), timeout=1)

        @pytest.mark.allow_network
        def test_allowed():
            s = socket.socket(); s.setblocking(False); s.connect_ex(("192.0.2.1", 80)); s.close()
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*NetworkBlockedError*"])
    pytester.runpytest_subprocess("--agentkit-allow-network", "-k", "allowed").assert_outcomes(passed=1)

"""The default client is agentkit's to close: no socket, descriptor or client outlives its loop.

Each scenario runs in a child process against the loopback fake server in ``benchmarks/``, so
open descriptors can be counted and anything printed at interpreter exit is seen.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRELUDE = """
import asyncio, gc, os, sys, threading, warnings
warnings.simplefilter("error", ResourceWarning)
from agentkit import Agent

def sockets() -> int:
    fds = os.listdir("/proc/self/fd")
    n = 0
    for fd in fds:
        try:
            n += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n

agent = Agent("gpt-4o-mini")
"""


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "fake_server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = proc.stdout.readline().strip().split()[-1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def _child(base_url: str, body: str) -> subprocess.CompletedProcess[str]:
    if not Path("/proc/self/fd").exists():
        pytest.skip("needs /proc to count descriptors")
    env = {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": base_url, "PYTHONDEVMODE": "1"}
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Unclosed" not in done.stderr, done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr
    return done


def test_asyncio_run_per_job_leaves_no_socket(base_url: str) -> None:
    done = _child(
        base_url,
        """
        before = sockets()
        for _ in range(100):
            assert asyncio.run(agent.run("hi")).output == "FINAL results=0"
        gc.collect()
        print(sockets() - before)
        """,
    )
    assert done.stdout.split() == ["0"]


def test_runs_on_one_loop_share_one_pool(base_url: str) -> None:
    done = _child(
        base_url,
        """
        async def main() -> None:
            before = sockets()
            for _ in range(20):
                await agent.run("hi")
            print(sockets() - before)
            clone = agent.clone(instructions="Be brief.")
            await clone.run("hi")
            assert clone.client is agent.client
            print(sockets() - before)
            await agent.aclose()
            await agent.aclose()
            print(sockets() - before)
        asyncio.run(main())
        """,
    )
    assert done.stdout.split() == ["1", "1", "0"]


def test_async_with_closes_the_default_client(base_url: str) -> None:
    done = _child(
        base_url,
        """
        async def main() -> None:
            before = sockets()
            async with agent:
                await agent.run("hi")
                first = agent.client
            print(sockets() - before)
            await agent.run("hi")
            print(agent.client is not first)
            await agent.aclose()
        asyncio.run(main())
        """,
    )
    assert done.stdout.split() == ["0", "True"]


def test_run_sync_from_many_threads_shares_one_loop(base_url: str) -> None:
    done = _child(
        base_url,
        """
        def work() -> None:
            assert agent.run_sync("hi").output == "FINAL results=0"
        for _ in range(2):
            threads = [threading.Thread(target=work) for _ in range(32)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            print(sockets())
        """,
    )
    first, second = (int(n) for n in done.stdout.split())
    # One shared pool: a second wave of 32 threads reuses the connections of the first.
    assert second <= first
    assert first <= 32 + 4


def test_an_explicit_client_stays_the_callers(base_url: str) -> None:
    done = _child(
        base_url,
        """
        from openai import AsyncOpenAI
        async def main() -> None:
            client = AsyncOpenAI()
            mine = Agent(client=client)
            async with mine:
                await mine.run("hi")
            print(client.is_closed())
            await client.close()
        asyncio.run(main())
        """,
    )
    assert done.stdout.split() == ["False"]

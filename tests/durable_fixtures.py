"""Fixtures for the durable-run tests (``pytest_plugins = ["tests.durable_fixtures"]``): a fresh
Postgres database per test session (DBOS's tables, agentkit's, and the tools' ``effects``), the
loopback fake model, and a pool of worker processes killed at the end of each test."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.durable_support import ROOT, Workers
from tests.sessions_fixtures import POSTGRES_DSN, require_server


def _with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def store() -> Iterator[str]:
    """A new database for this test session, with the ``effects`` table the test tools write."""
    require_server("postgres")
    name = f"agentkit_durable_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]  # generated name
    url = _with_database(POSTGRES_DSN, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE effects (idempotency_key text, run_id text, tool_call_id text, "
            "at timestamptz DEFAULT now())"
        )
    yield url
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def model_url() -> Iterator[str]:
    """``benchmarks/fake_server.py`` on 127.0.0.1 (the model every worker talks to)."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "fake_server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    port = int(server.stdout.readline())
    yield f"http://127.0.0.1:{port}/v1"
    server.terminate()
    server.wait()
    server.stdout.close()


@pytest.fixture
def workers(store: str, model_url: str, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(store, model_url, tmp_path)
    yield pool
    pool.stop_all()

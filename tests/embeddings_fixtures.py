"""A loopback stand-in for an OpenAI-compatible ``/v1/embeddings`` endpoint, for the embeddings tests.

It answers with the scripted model's deterministic vectors (``agentkit.testing``), records every
request body, counts the requests in flight at once, and can be told to misbehave.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest

from agentkit.testing._embeddings import embeddings_json


@dataclass
class EmbeddingsServer:
    """What the endpoint saw, and how it should answer."""

    url: str = ""
    latency: float = 0.0
    drop_last: bool = False
    """Answer one vector fewer than asked."""
    wrong_length: bool = False
    """Answer vectors one element too long."""
    status: int = 200
    """Answer with this HTTP status (and OpenAI's error body when it is not 200)."""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(api_key="sk-test", base_url=self.url, max_retries=0)


def _handler(state: EmbeddingsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            with state.lock:
                state.bodies.append(body)
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                time.sleep(state.latency)
                if state.wrong_length and body.get("dimensions"):
                    body = {**body, "dimensions": body["dimensions"] + 1}
                reply = embeddings_json(body)
                if state.drop_last:
                    reply["data"].pop()
                data = json.dumps(reply).encode()
            finally:
                with state.lock:
                    state.in_flight -= 1
            if state.status != 200:
                data = json.dumps(
                    {"error": {"message": "The server had an error", "type": "server_error"}}
                ).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def embeddings_server(**options: Any) -> Iterator[EmbeddingsServer]:
    """Serve ``/v1/embeddings`` on 127.0.0.1 for the duration of the block."""
    state = EmbeddingsServer(**options)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


POSTGRES_DSN = os.environ.get("AGENTKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:25329/postgres")


@functools.cache
def _no_pgvector() -> str | None:
    """Why the test Postgres cannot hold vectors, or None when it can."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_DSN, connect_timeout=3) as conn:
            row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    except Exception as exc:
        return f"Postgres is not reachable at {POSTGRES_DSN} ({exc}); run `bash .ci/services.sh`"
    if row is None:
        return f"the Postgres at {POSTGRES_DSN} has no pgvector; `bash .ci/services.sh` starts one that has"
    return None


def require_pgvector() -> str:
    """The DSN of a Postgres with pgvector; skip (locally) or fail (under CI) without one."""
    reason = _no_pgvector()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must test against a real pgvector: {reason}")
        pytest.skip(reason)
    return POSTGRES_DSN


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

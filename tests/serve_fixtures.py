"""A running service for the serve tests: uvicorn on 127.0.0.1 in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import uvicorn

from agentkit.serve import create_app, create_key


@dataclass
class Server:
    """A service on 127.0.0.1 and a key per test user."""

    url: str
    app: Any
    keys: dict[str, str]
    clients: list[Any] = field(default_factory=list)

    def http(self, user: str | None = "alice", **headers: str) -> httpx2.AsyncClient:
        """A raw HTTP client authenticated as ``user`` (closed when the server stops)."""
        if user is not None:
            headers["authorization"] = f"Bearer {self.keys[user]}"
        client = httpx2.AsyncClient(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def openai(self, user: str = "alice") -> Any:
        """The ``openai`` SDK's async client, pointed at the service as ``user``."""
        from openai import AsyncOpenAI

        client = AsyncOpenAI(api_key=self.keys[user], base_url=self.url + "/v1", max_retries=0)
        self.clients.append(client)
        return client


@asynccontextmanager
async def running(
    served: Any, *, users: tuple[str, ...] = ("alice", "bob"), **options: Any
) -> AsyncIterator[Server]:
    """Serve ``create_app(served, **options)`` with uvicorn until the block ends."""
    app = create_app(served, **options)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    store = app.state.service.store
    keys = {user: await create_key(store, user) for user in users}
    served = Server(f"http://127.0.0.1:{port}", app, keys)
    try:
        yield served
    finally:
        for client in served.clients:
            await (client.aclose() if hasattr(client, "aclose") else client.close())
        server.should_exit = True
        await task
        sock.close()

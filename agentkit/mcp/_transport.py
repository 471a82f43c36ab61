"""How ``MCPServer`` reaches a server: a subprocess over stdio, or streamable HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agentkit.exceptions import ConfigurationError

if TYPE_CHECKING:
    from mcp import Client
    from mcp.client.session import LoggingFnT, MessageHandlerFnT

__all__ = ["Http", "Stdio", "describe", "open_client", "require_mcp"]


def require_mcp() -> None:
    """Raise a ``ConfigurationError`` naming the extra when the ``mcp`` SDK is missing."""
    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "agentkit.mcp needs the MCP SDK: pip install 'agentkit-openai[mcp]'"
        ) from exc


@dataclass(frozen=True)
class Stdio:
    """A server started as ``command args...``, speaking MCP over its stdin and stdout."""

    command: str
    args: tuple[str, ...]
    env: Mapping[str, str] | None
    cwd: str | Path | None


@dataclass(frozen=True)
class Http:
    """A server reached over streamable HTTP."""

    url: str
    headers: Mapping[str, str] | None


@asynccontextmanager
async def open_client(
    transport: Stdio | Http,
    *,
    on_message: MessageHandlerFnT,
    on_log: LoggingFnT,
) -> AsyncIterator[Client]:
    """Connect the SDK's ``Client`` and complete the handshake; close it (and the process) on exit."""
    from mcp import Client, StdioServerParameters

    if isinstance(transport, Stdio):
        params = StdioServerParameters(
            command=transport.command,
            args=list(transport.args),
            env=dict(transport.env) if transport.env is not None else None,
            cwd=transport.cwd,
        )
        async with Client(params, message_handler=on_message, logging_callback=on_log) as client:
            yield client
        return
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    # The SDK's own defaults: 30 s to connect, 300 s to read (a response may stream).
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with httpx2.AsyncClient(headers=dict(transport.headers or {}), timeout=timeout) as http:
        stream = streamable_http_client(transport.url, http_client=http)
        async with Client(stream, message_handler=on_message, logging_callback=on_log) as client:
            yield client


def describe(exc: BaseException) -> str:
    """One line for an exception, looking inside exception groups (anyio raises them)."""
    inner = getattr(exc, "exceptions", None)  # a (Base)ExceptionGroup, also on Python 3.10
    if isinstance(inner, tuple) and inner:
        return "; ".join(describe(e) for e in inner)
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__

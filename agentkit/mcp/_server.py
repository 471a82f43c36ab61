"""``MCPServer``: one connection to an MCP server, whose tools an agent calls like its own."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from agentkit import Tool, ToolRetry
from agentkit.exceptions import ConfigurationError, MCPServerError, ToolDefinitionError

from ._content import result_text
from ._schema import convert_schema
from ._transport import Http, Stdio, describe, open_client, require_mcp

if TYPE_CHECKING:
    from mcp import Client

__all__ = ["MCPServer"]

logger = logging.getLogger("agentkit.mcp")

_MAX_PAGES = 100
"""``tools/list`` pages read at most, so a server whose cursor never ends cannot hang a run."""
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
"""Tool names OpenAI accepts."""


class MCPServer:
    """A connection to one MCP server; its tools go into ``Agent(tools=...)`` like any other.

    Build it with :meth:`stdio` or :meth:`http`, and use it as an async context manager::

        async with MCPServer.stdio("python", args=["server.py"]) as server:
            agent = Agent(tools=[*await server.list_tools(), my_tool])
            result = await agent.run("...")

    The connection lives in a task of its own, so a server that crashes cannot cancel the run
    that uses it: each call to one of its tools then gets a clear error result
    (``MCPServerError``) while the run's other tools are unaffected. A crashed server stays
    down; open a new ``MCPServer`` to start it again.

    Args:
        transport: What to connect to; use :meth:`stdio` or :meth:`http`.
        name: A name for messages and logs.
        timeout: Seconds one tool call (or one ``tools/list``) may take; enforced per call by the
            agent's dispatcher, which reports a timeout to the model.
        connect_timeout: Seconds to start the server and complete the MCP handshake.
        strict: ``True`` requires OpenAI strict mode for every tool, ``False`` never uses it,
            ``None`` uses it where the tool's schema allows and reports why where it does not.
        tools: Offer only the tools with these names (``None``: every tool the server lists).
    """

    def __init__(
        self,
        transport: Stdio | Http,
        *,
        name: str,
        timeout: float | None = 60.0,
        connect_timeout: float = 30.0,
        strict: bool | None = None,
        tools: Sequence[str] | None = None,
    ) -> None:
        if timeout is not None and not timeout > 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if not connect_timeout > 0:
            raise ConfigurationError(
                f"connect_timeout must be a positive number of seconds, got {connect_timeout!r}"
            )
        self._transport = transport
        self.name = name
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.strict = strict
        self._allowed = None if tools is None else frozenset(tools)
        self._client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._ready: asyncio.Future[None] | None = None
        self._failure: BaseException | None = None
        self._lost = False
        self._tools: list[Tool[..., Any]] | None = None
        self._changed = False

    @classmethod
    def stdio(
        cls,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        name: str | None = None,
        timeout: float | None = 60.0,
        connect_timeout: float = 30.0,
        strict: bool | None = None,
        tools: Sequence[str] | None = None,
    ) -> MCPServer:
        """Run ``command args...`` as a subprocess and talk MCP over its stdin and stdout.

        The process gets ``PATH``, ``HOME`` and a few other basic variables plus ``env`` (not
        the whole environment: pass what the server needs). Its stderr goes to ours. See the
        class for the other arguments.
        """
        transport = Stdio(command, tuple(args), dict(env) if env is not None else None, cwd)
        return cls(
            transport,
            name=name or Path(command).name,
            timeout=timeout,
            connect_timeout=connect_timeout,
            strict=strict,
            tools=tools,
        )

    @classmethod
    def http(
        cls,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        name: str | None = None,
        timeout: float | None = 60.0,
        connect_timeout: float = 30.0,
        strict: bool | None = None,
        tools: Sequence[str] | None = None,
    ) -> MCPServer:
        """Connect to an MCP server over streamable HTTP at ``url`` (e.g. ``http://127.0.0.1:8000/mcp``).

        ``headers`` (e.g. ``Authorization``) go with every request. See the class for the rest.
        """
        transport = Http(url, dict(headers) if headers is not None else None)
        return cls(
            transport,
            name=name or url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            strict=strict,
            tools=tools,
        )

    def __repr__(self) -> str:
        return f"MCPServer(name={self.name!r}, connected={self.connected})"

    @property
    def connected(self) -> bool:
        """Whether the connection is up (entered, and the server has not gone away)."""
        return (
            self._client is not None and self._task is not None and not self._task.done() and not self._lost
        )

    @property
    def tools_changed(self) -> bool:
        """The server announced a new tool list since the last :meth:`list_tools`."""
        return self._changed

    # --- lifecycle ---

    async def __aenter__(self) -> MCPServer:
        """Start the server (stdio) or connect to it (HTTP) and complete the MCP handshake.

        Raises:
            ConfigurationError: The ``mcp`` extra is not installed.
            MCPServerError: The server cannot be started or reached, or the handshake failed or
                took longer than ``connect_timeout``.
        """
        require_mcp()
        if self._task is not None:
            raise MCPServerError(
                f"MCP server {self.name!r} is already connected; enter it once.", server=self.name
            )
        self._ready = ready = asyncio.get_running_loop().create_future()
        self._closing = asyncio.Event()
        self._lost = False
        self._task = asyncio.create_task(self._own(ready), name=f"agentkit-mcp-{self.name}")
        try:
            await asyncio.wait_for(asyncio.shield(ready), self.connect_timeout)
        except asyncio.TimeoutError:
            await self.aclose()
            raise MCPServerError(
                f"MCP server {self.name!r} did not complete the MCP handshake within "
                f"{self.connect_timeout:g} s.",
                server=self.name,
            ) from None
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection and, for stdio, stop the server process. Safe to call twice."""
        task, self._task = self._task, None
        if task is None:
            return
        self._closing.set()
        if self._ready is not None and not self._ready.done():
            task.cancel()  # Still starting (a handshake that never ends): stop waiting for it.
        await asyncio.gather(task, return_exceptions=True)
        self._client = None

    async def _own(self, ready: asyncio.Future[None]) -> None:
        """Hold the connection open in this task until ``aclose``: the SDK's task groups and
        cancel scopes live here, never in the caller's task."""
        import anyio
        from mcp_types.version import MODERN_PROTOCOL_VERSIONS

        try:
            async with self._connect() as client:
                self._client = client
                async with anyio.create_task_group() as group:
                    if client.protocol_version in MODERN_PROTOCOL_VERSIONS:
                        await group.start(self._listen, client)
                    ready.set_result(None)
                    await self._closing.wait()
                    group.cancel_scope.cancel()
        except BaseException as exc:
            error = MCPServerError(
                f"MCP server {self.name!r} could not be started or reached: {describe(exc)}",
                server=self.name,
            )
            if not ready.done():
                ready.set_exception(error)
            elif not self._closing.is_set():
                logger.warning("MCP server %r went away: %s", self.name, describe(exc))
                self._failure = exc
        finally:
            if not self._closing.is_set() and ready.done() and ready.exception() is None:
                logger.warning("MCP server %r closed its connection", self.name)
            self._client = None

    def _connect(self) -> AbstractAsyncContextManager[Client]:
        return open_client(self._transport, on_message=self._on_message, on_log=self._on_log)

    async def _listen(self, client: Client, *, task_status: Any) -> None:
        """Watch ``subscriptions/listen`` (protocol 2026-07-28) for tool-list changes."""
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                task_status.started()
                async for _event in subscription:
                    self._tool_list_changed()
        except Exception as exc:  # The server may not offer subscriptions; calls still work.
            logger.debug("MCP server %r: no tool-list subscription: %s", self.name, describe(exc))
            task_status.started()

    async def _on_message(self, message: Any) -> None:
        from mcp_types import ToolListChangedNotification

        if isinstance(message, ToolListChangedNotification):  # protocols up to 2025-11-25
            self._tool_list_changed()
        elif isinstance(message, Exception):
            logger.warning("MCP server %r sent something unreadable: %s", self.name, describe(message))

    async def _on_log(self, params: Any) -> None:
        level = {
            "debug": logging.DEBUG,
            "info": logging.INFO,
            "notice": logging.INFO,
            "warning": logging.WARNING,
        }
        logger.log(level.get(params.level, logging.ERROR), "MCP server %r: %s", self.name, params.data)

    def _tool_list_changed(self) -> None:
        if not self._changed:
            logger.info("MCP server %r announced a new tool list", self.name)
        self._changed = True

    # --- tools ---

    async def list_tools(self) -> list[Tool[..., Any]]:
        """Return the server's tools as agentkit ``Tool`` values.

        The list is fetched once and kept until the server announces a change (``tools_changed``);
        then the next call fetches it again. Each tool's ``strict_report`` says what strict mode
        changed in its schema, or why the tool is sent without strict mode.

        Raises:
            MCPServerError: Not connected, or the server failed to list its tools.
            ToolDefinitionError: A tool's schema cannot be offered to the model, or two tool
                names are the same once made valid for OpenAI.
        """
        if self._tools is not None and not self._changed and self.connected:
            return list(self._tools)
        client = self._connected()
        self._changed = False  # Before fetching: a change announced meanwhile marks it again.
        listed: list[Any] = []
        cursor: str | None = None
        try:
            for _ in range(_MAX_PAGES):
                page = await asyncio.wait_for(
                    client.list_tools(cursor=cursor, cache_mode="refresh"), self.timeout
                )
                listed.extend(page.tools)
                cursor = page.next_cursor
                if cursor is None:
                    break
        except asyncio.TimeoutError:
            raise MCPServerError(
                f"MCP server {self.name!r} did not list its tools within {self.timeout:g} s.",
                server=self.name,
            ) from None
        except Exception as exc:
            raise self._error("could not list its tools", exc) from exc
        tools: dict[str, Tool[..., Any]] = {}
        for listed_tool in listed:
            if self._allowed is not None and listed_tool.name not in self._allowed:
                continue
            built = self._tool(listed_tool)
            if built.name in tools:
                raise ToolDefinitionError(
                    f"MCP server {self.name!r} lists two tools named {built.name!r} (after making the "
                    "names valid for OpenAI)"
                )
            tools[built.name] = built
        self._tools = list(tools.values())
        return list(self._tools)

    def _tool(self, listed: Any) -> Tool[..., Any]:
        remote_name: str = listed.name
        converted = convert_schema(remote_name, listed.input_schema, strict=self.strict)
        name = remote_name
        if not _NAME.match(name):
            name = re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "tool"
            logger.warning(
                "MCP server %r: tool %r is offered to the model as %r", self.name, remote_name, name
            )

        async def call(**arguments: Any) -> str:
            return await self._call(remote_name, arguments)

        call.__name__ = name
        for line in converted.report:
            logger.debug("MCP tool %r: %s", remote_name, line)
        return Tool(
            name=name,
            description=listed.description or listed.title or "",
            parameters=converted.parameters,
            strict=converted.strict,
            function=call,
            is_async=True,
            takes_context=False,
            timeout=self.timeout,
            strict_report=converted.report,
            validator=converted.validator,
        )

    async def _call(self, name: str, arguments: dict[str, Any]) -> str:
        client = self._connected()
        try:
            result = await client.call_tool(name, arguments)
        except Exception as exc:
            raise self._error(f"failed the call to {name!r}", exc) from exc
        text = result_text(result)
        if result.is_error:
            raise ToolRetry(text or f"The MCP tool {name!r} reported an error without details.")
        return text

    def _connected(self) -> Client:
        if self.connected:
            assert self._client is not None
            return self._client
        if self._task is None:
            raise MCPServerError(
                f"MCP server {self.name!r} is not connected: use `async with server:` around the run.",
                server=self.name,
            )
        raise self._gone()

    def _gone(self) -> MCPServerError:
        cause = f" ({describe(self._failure)})" if self._failure is not None else ""
        return MCPServerError(
            f"MCP server {self.name!r} is not running: its connection closed{cause}, so its tools cannot "
            "be called. The server process exited or went away; a new MCPServer starts it again.",
            server=self.name,
        )

    def _error(self, what: str, exc: Exception) -> MCPServerError:
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED

        if isinstance(exc, MCPError) and exc.code == CONNECTION_CLOSED:
            self._lost = True
        if not self.connected:
            return self._gone()
        return MCPServerError(f"MCP server {self.name!r} {what}: {describe(exc)}", server=self.name)

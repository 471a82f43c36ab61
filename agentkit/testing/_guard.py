"""The network guard: requests to the model fail unless a cassette or scripted model answers them.

Three modes (``NetworkMode``):

- ``"model"`` (the pytest plugin's default): block what agentkit is for. A request sent by an
  ``openai`` SDK client to a host that is not loopback, and any connection to the OpenAI API,
  raise ``NetworkBlockedError``. Everything else passes: the application's own HTTP tests, a
  docker-compose database named ``db``, a base URL on 127.0.0.1 (the user's own fake or local
  model server). A scripted model never reaches a socket, and a replaying cassette answers model
  requests before they would.
- ``"loopback"``: block every connection to anything but loopback addresses and Unix sockets.
- ``"off"``: no guard.

How: ``socket.getaddrinfo`` is patched (every client resolves the host first, so the error comes
before any socket exists and is not buried in an exception group by anyio's happy eyeballs), and
``socket.socket.connect``, ``connect_ex``, ``sendto`` and ``sendmsg``, which ``http.client``,
``httpcore``, asyncio and UDP senders (DNS, syslog, metrics) all go through. In ``"loopback"``
mode names other than ``localhost`` are not resolved at all: a DNS query is network traffic too.
For ``"model"`` mode, the network transports of ``httpx2`` (which the ``openai`` SDK uses) and the
SDK's aiohttp transport are wrapped once per process to check each request's headers; the wrapper
does nothing while no guard is on.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import urlsplit

from ..exceptions import NetworkBlockedError
from ._traffic import is_loopback, is_openai_host, is_sdk_request

__all__ = ["NetworkMode", "allow_network", "block_network", "cassette_answers", "network_blocked"]

NetworkMode = Literal["model", "loopback", "off"]
"""What the guard blocks: model traffic nothing answers, everything but loopback, or nothing."""

NETWORK_MODES: tuple[NetworkMode, ...] = ("model", "loopback", "off")

_lock = threading.Lock()
_blocks: list[tuple[NetworkMode, frozenset[str]]] = []
_suspended = 0
_answering = 0
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
_real_sendto = socket.socket.sendto
_real_sendmsg = socket.socket.sendmsg
_HINT = (
    "Tests run offline: use a ScriptedModel or a cassette (record with --agentkit-record=once), or "
    "allow the network with @pytest.mark.allow_network or --agentkit-network=off."
)


def _allowed(host: str) -> bool:
    return bool(_suspended) or is_loopback(host) or any(host in hosts for _, hosts in _blocks)


def _check_host(host: str, port: Any) -> None:
    if not _blocks or _allowed(host):
        return
    if any(mode == "loopback" for mode, _ in _blocks):
        raise NetworkBlockedError(
            f"agentkit.testing blocked a network connection to {host}:{port} "
            f"(--agentkit-network=loopback). {_HINT}"
        )
    if is_openai_host(host):
        raise NetworkBlockedError(
            f"agentkit.testing blocked a connection to the OpenAI API at {host}:{port}. {_HINT}"
        )


def _check_request(url: str, headers: Any) -> None:
    if not _blocks or _answering or not is_sdk_request(headers):
        return
    host = urlsplit(url).hostname or ""
    if not _allowed(host):
        raise NetworkBlockedError(
            f"agentkit.testing blocked a model request to {url}: no cassette or scripted model "
            f"answers it, and the base URL is not on loopback. {_HINT}"
        )


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        _check_host(str(address[0]), address[1])


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None:
        _check_host(host.decode() if isinstance(host, bytes) else str(host), port)
    return _real_getaddrinfo(host, port, *args, **kwargs)


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def _guarded_sendto(self: socket.socket, data: Any, *args: Any) -> int:
    # sendto(data, address) or sendto(data, flags, address): the address is always last.
    if args:
        _check(self, args[-1])
    return _real_sendto(self, data, *args)


def _guarded_sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
    # sendmsg(buffers, ancdata, flags, address): without an address it sends on a connected socket.
    if len(args) >= 3:
        _check(self, args[2])
    return _real_sendmsg(self, buffers, *args)


_PATCHES: list[tuple[Any, str, Any, Any]] = [
    (socket.socket, "connect", _guarded_connect, _real_connect),
    (socket.socket, "connect_ex", _guarded_connect_ex, _real_connect_ex),
    (socket.socket, "sendto", _guarded_sendto, _real_sendto),
    (socket.socket, "sendmsg", _guarded_sendmsg, _real_sendmsg),
    (socket, "getaddrinfo", _guarded_getaddrinfo, _real_getaddrinfo),
]
_transports_wrapped = False


def _wrap_transports() -> None:
    """Wrap the HTTP transports the ``openai`` SDK sends through, once per process."""
    global _transports_wrapped
    if _transports_wrapped:
        return
    _transports_wrapped = True
    targets: list[tuple[Any, str]] = []
    try:
        import httpx2

        targets += [
            (httpx2.HTTPTransport, "handle_request"),
            (httpx2.AsyncHTTPTransport, "handle_async_request"),
        ]
    except ImportError:  # pragma: no cover - openai depends on httpx2
        pass
    try:
        from openai._vendor.httpx_aiohttp.transport import AiohttpTransport

        targets.append((AiohttpTransport, "handle_async_request"))
    except ImportError:
        pass
    for owner, name in targets:
        real = getattr(owner, name)
        if name == "handle_request":

            def handle(self: Any, request: Any, _real: Any = real) -> Any:
                _check_request(str(request.url), request.headers)
                return _real(self, request)

        else:

            async def handle(self: Any, request: Any, _real: Any = real) -> Any:  # type: ignore[misc]
                _check_request(str(request.url), request.headers)
                return await _real(self, request)

        setattr(owner, name, handle)


def network_blocked() -> bool:
    """Whether a guard is on."""
    return bool(_blocks) and not _suspended


@contextmanager
def allow_network() -> Iterator[None]:
    """Lift the guard inside the block (a cassette that records needs the real API)."""
    global _suspended
    with _lock:
        _suspended += 1
    try:
        yield
    finally:
        with _lock:
            _suspended -= 1


@contextmanager
def cassette_answers() -> Iterator[None]:
    """Inside the block a cassette answers model requests (or fails them with a drift report)."""
    global _answering
    with _lock:
        _answering += 1
    try:
        yield
    finally:
        with _lock:
            _answering -= 1


@contextmanager
def block_network(allow_hosts: Iterable[str] = (), *, mode: NetworkMode = "loopback") -> Iterator[None]:
    """Turn the network guard on inside the block.

    Args:
        allow_hosts: IP addresses or host names that stay reachable besides loopback.
        mode: ``"loopback"`` (block every connection to anything but loopback, the default
            here), ``"model"`` (block only model requests nothing answers; the pytest plugin's
            default) or ``"off"``.

    Raises:
        ValueError: An unknown mode.

    Blocks nest (the strictest mode wins); the socket functions are restored when the outermost
    block exits.
    """
    if mode not in NETWORK_MODES:
        raise ValueError(f"mode must be one of {', '.join(NETWORK_MODES)}, not {mode!r}")
    if mode == "off":
        yield
        return
    entry = (mode, frozenset(allow_hosts))
    _wrap_transports()
    with _lock:
        if not _blocks:
            for owner, name, guarded, _ in _PATCHES:
                setattr(owner, name, guarded)
        _blocks.append(entry)
    try:
        yield
    finally:
        with _lock:
            _blocks.remove(entry)
            if not _blocks:
                for owner, name, _, real in _PATCHES:
                    setattr(owner, name, real)

"""A guard that makes any connection to a non-loopback address fail.

It patches ``socket.getaddrinfo`` (every client resolves the host first, so the error comes
before any socket exists and is not buried in an exception group by anyio's happy eyeballs) and
``socket.socket.connect``, which ``socket.create_connection``, ``http.client``, ``httpcore`` and
asyncio's ``sock_connect`` all go through, and ``sendto``/``sendmsg``, which send UDP datagrams
(DNS, syslog, metrics) without ever connecting. Names other than ``localhost`` are not resolved
at all: a DNS query is network traffic too. (An async client given a bare IP address skips
name resolution; anyio then reports the error inside an exception group.) Loopback addresses and Unix sockets
stay allowed: local Postgres and Redis, and the test's own servers on 127.0.0.1, are not "the
network".
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..exceptions import NetworkBlockedError

__all__ = ["allow_network", "block_network", "network_blocked"]

_lock = threading.Lock()
_depth = 0
_allowed_hosts: list[frozenset[str]] = []
_suspended = 0
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
_real_sendto = socket.socket.sendto
_real_sendmsg = socket.socket.sendmsg


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _check_host(host: str, port: Any) -> None:
    if _suspended or _is_loopback(host) or any(host in hosts for hosts in _allowed_hosts):
        return
    raise NetworkBlockedError(
        f"agentkit.testing blocked a network connection to {host}:{port}. Tests run offline: "
        "use a ScriptedModel or a cassette (record with --agentkit-record=once), or allow the network "
        "with @pytest.mark.allow_network or --agentkit-allow-network."
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


def network_blocked() -> bool:
    """Whether the guard is on."""
    return _depth > 0 and not _suspended


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
def block_network(allow_hosts: Iterable[str] = ()) -> Iterator[None]:
    """Make connections to anything but loopback raise ``NetworkBlockedError`` inside the block.

    Args:
        allow_hosts: IP addresses that stay reachable besides loopback.

    Blocks nest; the socket methods are restored when the outermost block exits.
    """
    global _depth
    hosts = frozenset(allow_hosts)
    with _lock:
        if _depth == 0:
            for owner, name, guarded, _ in _PATCHES:
                setattr(owner, name, guarded)
        _depth += 1
        _allowed_hosts.append(hosts)
    try:
        yield
    finally:
        with _lock:
            _allowed_hosts.remove(hosts)
            _depth -= 1
            if _depth == 0:
                for owner, name, _, real in _PATCHES:
                    setattr(owner, name, real)

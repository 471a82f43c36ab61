"""``tools/http_fetch.py`` against a server on 127.0.0.1: text, limits, redirects, refusals."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from agentkit import Agent, ToolRetry
from agentkit.testing import ScriptedModel, reply, tool_call
from tools.http_fetch import http_fetch, make_http_fetch

PAGE = b"""<html><head><title>Docs</title><style>p{}</style><script>alert(1)</script></head>
<body><h1>Hello</h1><p>World &amp; friends</p></body></html>"""


class Site(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []
    """The Host header of every request, in order."""

    def do_GET(self) -> None:
        Site.hosts.append(self.headers.get("host", ""))
        routes: dict[str, tuple[int, str, bytes, dict[str, str]]] = {
            "/page": (200, "text/html; charset=utf-8", PAGE, {}),
            "/data": (200, "application/json", b'{"ok": true}', {}),
            "/big": (200, "text/plain", b"a" * 5000, {}),
            "/image": (200, "image/png", b"\x89PNG" + b"\0" * 100, {}),
            "/missing": (404, "text/plain", b"no such page", {}),
            "/redirect": (302, "text/plain", b"", {"location": "/data"}),
            "/loop": (302, "text/plain", b"", {"location": "/loop"}),
        }
        if self.path == "/slow":
            time.sleep(1.0)
        status, content_type, body, headers = routes.get(self.path, (200, "text/plain", b"slow", {}))
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # The client gave up first (the timeout test).
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


local_fetch = make_http_fetch(allow_private=True, max_bytes=1000, timeout=0.5)


async def test_html_comes_back_as_visible_text(site: str) -> None:
    text = await local_fetch(f"{site}/page")
    assert text == "HTTP 200 text/html; charset=utf-8\n# Docs\nHello\nWorld & friends"


async def test_json_errors_and_redirects(site: str) -> None:
    assert await local_fetch(f"{site}/data") == 'HTTP 200 application/json\n{"ok": true}'
    assert await local_fetch(f"{site}/redirect") == 'HTTP 200 application/json\n{"ok": true}'
    assert await local_fetch(f"{site}/missing") == "HTTP 404 text/plain\nno such page"
    with pytest.raises(ToolRetry, match="redirects"):
        await local_fetch(f"{site}/loop")


async def test_size_and_time_limits(site: str) -> None:
    big = await local_fetch(f"{site}/big")
    assert big.startswith("HTTP 200 text/plain\n" + "a" * 1000) and "[cut:" in big
    assert await local_fetch(f"{site}/image") == "HTTP 200 image/png\n[104 bytes of image/png, not shown]"
    with pytest.raises(ToolRetry, match=r"longer than 0\.5 s"):
        await local_fetch(f"{site}/slow")


@pytest.mark.parametrize("url", ["ftp://example.com/x", "/relative", "file:///etc/passwd"])
async def test_only_absolute_http_urls(url: str) -> None:
    with pytest.raises(ToolRetry, match="not an absolute"):
        await http_fetch(url)


async def test_private_addresses_are_refused_by_default(site: str) -> None:
    private = ("http://localhost/", "http://[::1]:9/", "http://169.254.169.254/latest/", "http://10.0.0.1/")
    for url in (f"{site}/data", *private):
        with pytest.raises(ToolRetry, match="private or local address"):
            await http_fetch(url)


async def test_an_agent_reads_a_page(site: str) -> None:
    agent = Agent(tools=[local_fetch])
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("http_fetch", {"url": f"{site}/page"})]), reply("It says Hello.")]
    )
    with model.install():
        result = await agent.run("What does the page say?")
    assert result.output == "It says Hello."
    assert model.requests[1]["messages"][-1]["content"].endswith("Hello\nWorld & friends")


async def test_dns_rebinding_cannot_reach_loopback(site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name resolves to a public address for the check, then to 127.0.0.1 (a rebinding DNS
    server). The request must go to the address that was checked, with the name in ``Host``.

    1.1.1.1 stands for a public web server: connections to it are sent to the loopback site, so
    the test sees what such a server would receive. Connections anywhere else stay blocked.
    """
    port = int(site.rsplit(":", 1)[1])
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    answers = iter(["1.1.1.1"])
    connected: list[str] = []

    def rebinding_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real_getaddrinfo(host, *args, **kwargs)
        address = next(answers, "127.0.0.1")  # first answer public, every later one loopback
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def connect(sock: socket.socket, address: Any) -> None:
        connected.append(address[0])
        real_connect(sock, ("127.0.0.1", address[1]) if address[0] == "1.1.1.1" else address)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    monkeypatch.setattr(socket.socket, "connect", connect)
    Site.hosts = []
    text = await make_http_fetch(timeout=5)(f"http://rebind.test:{port}/data")
    assert text == 'HTTP 200 application/json\n{"ok": true}'
    assert connected == ["1.1.1.1"]
    assert Site.hosts == [f"rebind.test:{port}"]

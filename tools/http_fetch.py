"""``http_fetch``: let an agent read a web page or an API response, within size and time limits.

    from tools.http_fetch import http_fetch, make_http_fetch

    agent = Agent(tools=[http_fetch])                      # public http(s) URLs, 10 s, 100 kB
    agent = Agent(tools=[make_http_fetch(max_bytes=20_000, allow_private=True)])

HTML comes back as its visible text (scripts, styles and tags removed), other text as is, binary
content as a one-line description. A URL the model gets wrong (bad scheme, private address, too
many redirects, timeout) becomes a ``ToolRetry`` message it can act on.

By default the tool refuses hosts that resolve to loopback, private, link-local or reserved
addresses, at every redirect, so a model cannot be talked into reading the cloud metadata service
or your intranet. It resolves each name once, checks every address, and connects to the address
it checked (the ``Host`` header and, for https, the TLS server name and certificate check still
use the name), so a DNS server that answers differently the second time (DNS rebinding) cannot
send the request to a private address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Coroutine
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2

from agentkit import Tool, ToolRetry, tool

__all__ = ["http_fetch", "make_http_fetch"]

MAX_REDIRECTS = 5
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


def make_http_fetch(
    *,
    max_bytes: int = 100_000,
    timeout: float = 10.0,
    allow_private: bool = False,
    user_agent: str = "agentkit-http-fetch/0.1",
) -> Tool[[str], Coroutine[Any, Any, str]]:
    """Build an ``http_fetch`` tool with its own limits.

    Args:
        max_bytes: Bytes of body read at most; the rest is not downloaded.
        timeout: Seconds for the whole fetch, redirects included.
        allow_private: Allow loopback and private addresses (for local services and tests).
        user_agent: The ``User-Agent`` header sent.
    """

    @tool(name="http_fetch")
    async def fetch(url: str) -> str:
        """Fetch a web page or an HTTP API with GET and return its text.

        Args:
            url: An absolute http:// or https:// URL.
        """
        try:
            return await asyncio.wait_for(_fetch(url, max_bytes, allow_private, user_agent), timeout)
        except asyncio.TimeoutError:
            raise ToolRetry(f"Fetching {url} took longer than {timeout:g} s.") from None
        except httpx2.HTTPError as exc:
            raise ToolRetry(f"Fetching {url} failed: {type(exc).__name__}: {exc}") from None

    return fetch


async def _fetch(url: str, max_bytes: int, allow_private: bool, user_agent: str) -> str:
    headers = {"user-agent": user_agent, "accept": "text/html,application/json,text/*;q=0.9,*/*;q=0.5"}
    async with httpx2.AsyncClient(headers=headers, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            address = await _check_url(url, allow_private)
            target, options = _pinned(url, address)
            async with client.stream("GET", target, **options) as response:
                location = response.headers.get("location")
                if response.is_redirect and location:
                    url = urljoin(url, location)
                    continue
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        break
                return _render(response, bytes(body), max_bytes)
    raise ToolRetry(f"More than {MAX_REDIRECTS} redirects; the last one went to {url}.")


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


async def _check_url(url: str, allow_private: bool) -> Address | None:
    """Check the URL; return the address to connect to (``None``: by name, private allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolRetry(f"{url!r} is not an absolute http:// or https:// URL.")
    if allow_private:
        return None
    try:
        addresses = [ipaddress.ip_address(parts.hostname)]
    except ValueError:  # A name, not an address literal: check every address it resolves to.
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443)
        except socket.gaierror as exc:
            raise ToolRetry(f"Cannot resolve {parts.hostname}: {exc.strerror}.") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise ToolRetry(f"{parts.hostname} is a private or local address ({address}); it is not fetched.")
    return addresses[0]


def _pinned(url: str, address: Address | None) -> tuple[str, dict[str, Any]]:
    """The URL with its host replaced by the checked ``address``, and the request options that
    keep the name where it matters: the ``Host`` header, and the TLS server name (SNI), which is
    also the name the certificate is checked against."""
    parts = urlsplit(url)
    if address is None or parts.hostname is None:
        return url, {}
    host = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{host}:{parts.port}" if parts.port else host
    original = parts.netloc.rpartition("@")[2]  # without any user:password@
    options: dict[str, Any] = {"headers": {"host": original}}
    if parts.scheme == "https":
        options["extensions"] = {"sni_hostname": parts.hostname}
    return parts._replace(netloc=netloc).geturl(), options


def _render(response: httpx2.Response, body: bytes, max_bytes: int) -> str:
    content_type = response.headers.get("content-type", "")
    cut = len(body) > max_bytes
    body = body[:max_bytes]
    head = f"HTTP {response.status_code} {content_type or '(no content type)'}\n"
    mime = content_type.split(";")[0].strip().lower()
    if mime and not any(t in mime for t in _TEXT_TYPES):
        more = "+" if cut else ""
        return head + f"[{len(body)}{more} bytes of {mime}, not shown]"
    text = body.decode(response.charset_encoding or "utf-8", errors="replace")
    if mime in ("text/html", "application/xhtml+xml"):
        text = _visible_text(text)
    return head + text + (f"\n[cut: the body is longer than {max_bytes} bytes]" if cut else "")


class _TextExtractor(HTMLParser):
    """Collect the text a browser would show: no scripts, styles or markup."""

    _HIDDEN = frozenset({"script", "style", "noscript", "template", "head"})
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._HIDDEN:
            self.hidden += 1
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self.hidden:
            self.parts.append(data)


def _visible_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = "\n".join(line for line in lines if line)
    title = " ".join(parser.title.split())
    return f"# {title}\n{text}" if title else text


http_fetch = make_http_fetch()
"""The tool with default limits: public http(s) URLs, 10 s, 100,000 bytes."""

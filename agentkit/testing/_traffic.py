"""Tell model traffic from everything else a test sends.

A request is model traffic when an ``openai`` SDK client sent it (the SDK stamps every request
with its own ``X-Stainless-*`` headers and an ``OpenAI/Python`` user agent), or when it goes to the
OpenAI API itself. The host alone cannot tell: on a test machine the model's base URL is often
127.0.0.1, like the application under test.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["is_loopback", "is_model_request", "is_openai_host", "is_sdk_request"]

_OPENAI_HOSTS = frozenset({"api.openai.com"})
_OPENAI_SUFFIXES = (".openai.azure.com",)
_SDK_AGENTS = ("OpenAI/", "AsyncOpenAI/")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = host.strip("[]")
    if host in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def is_openai_host(host: str) -> bool:
    """Whether ``host`` is the OpenAI API (or an Azure OpenAI resource)."""
    host = host.lower().rstrip(".")
    return host in _OPENAI_HOSTS or host.endswith(_OPENAI_SUFFIXES)


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if str(key).lower() == name:
            if isinstance(value, (list, tuple)):
                return str(value[0]) if value else ""
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


def is_sdk_request(headers: Mapping[str, Any]) -> bool:
    """Whether the headers are those of a request made by an ``openai`` SDK client."""
    if _header(headers, "x-stainless-lang") is not None:
        return True
    agent = _header(headers, "user-agent") or ""
    return agent.startswith(_SDK_AGENTS)


def is_model_request(uri: str, headers: Mapping[str, Any], record_hosts: Iterable[str] = ()) -> bool:
    """Whether a request is one a cassette records: model traffic, or to one of ``record_hosts``."""
    host = (urlsplit(uri).hostname or "").lower()
    return is_sdk_request(headers) or is_openai_host(host) or host in {h.lower() for h in record_hosts}

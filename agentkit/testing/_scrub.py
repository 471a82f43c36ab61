"""Remove secrets from an interaction before it is written to a cassette, and before matching.

This runs inside the cassette serializer, the only path from memory to disk, so no per-test
option can switch it off; live requests are cleaned by the same functions before they are
matched, so a request that held a secret still replays. The rules for values and text (at any
depth, inside embedded JSON and server-sent events) are the shared ones in ``agentkit._redact``;
this module adds what only HTTP has: headers, the request line and its query string.

Request headers are kept from an allow-list (a secret in an unusual header is dropped, not
written, and so is anything naming the client's version: re-recording with a newer SDK must not
change the file); response headers lose cookies and account ids.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from .._redact import MARK, is_secret_key, redact_text, redact_value

__all__ = ["REDACTED", "scrub_body", "scrub_interaction", "scrub_uri"]

REDACTED = MARK

# Request headers worth keeping: enough to read the cassette, nothing that identifies anyone or
# changes with every SDK release (user-agent, x-stainless-package-version).
_REQUEST_HEADERS = frozenset({"accept", "content-type", "openai-beta"})
_RESPONSE_HEADERS_DROPPED = frozenset({"set-cookie", "set-cookie2", "openai-organization", "openai-project"})
_SECRET_HEADER = re.compile(r"auth|cookie|token|secret|api[-_]?key|password|session", re.IGNORECASE)
# Query parameters that are credentials without saying so: Azure SAS signatures, Google's "key".
_SECRET_QUERY = frozenset({"key", "sig", "code"})


def scrub_uri(uri: str) -> str:
    """Replace credentials in a URL: the user-info password and secret query parameters.

    ``https://x.openai.azure.com/openai/deployments/d/chat/completions?api-key=abc`` becomes
    ``...?api-key=REDACTED``; other parameters keep their values and order.
    """
    parts = urlsplit(uri)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{user}@{host}"
    query = "&".join(
        f"{quote(k, safe='-_.~')}="
        + (REDACTED if is_secret_key(k) or k.lower() in _SECRET_QUERY else quote(redact_text(v), safe="-_.~"))
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub_body(body: Any) -> Any:
    """Scrub a decoded body: JSON data at any depth, or text (server-sent events line by line)."""
    if isinstance(body, str) and "data:" in body:
        return "\n".join(_scrub_sse_line(line) for line in body.split("\n"))
    return redact_value(body)


def _scrub_sse_line(line: str) -> str:
    if line.startswith("data:"):
        payload = line[5:].lstrip()
        return line[: len(line) - len(payload)] + redact_text(payload)
    return redact_text(line)


def scrub_interaction(interaction: dict[str, Any]) -> dict[str, Any]:
    """Scrub one serialized interaction (``{"request": ..., "response": ...}``) in place and return it."""
    request = interaction.get("request") or {}
    response = interaction.get("response") or {}
    if "uri" in request:
        request["uri"] = scrub_uri(str(request["uri"]))
    request["headers"] = {
        name: [redact_text(str(v)) for v in values]
        for name, values in (request.get("headers") or {}).items()
        if name.lower() in _REQUEST_HEADERS
    }
    response["headers"] = {
        name: [redact_text(str(v)) for v in values]
        for name, values in (response.get("headers") or {}).items()
        if name.lower() not in _RESPONSE_HEADERS_DROPPED and not _SECRET_HEADER.search(name)
    }
    request["body"] = scrub_body(request.get("body"))
    body = response.get("body")
    if isinstance(body, dict):
        response["body"] = {k: scrub_body(v) for k, v in body.items()}
    else:
        response["body"] = scrub_body(body)
    return interaction

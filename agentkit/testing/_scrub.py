"""Remove secrets from an interaction before it is written to a cassette.

This runs inside the cassette serializer, the only path from memory to disk, so no per-test
option can switch it off. Request headers are kept from an allow-list (a secret in an unusual
header is dropped, not written); response headers lose cookies and account ids; bodies lose
secret-looking values wherever they are nested.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "scrub_interaction", "scrub_text", "scrub_value"]

REDACTED = "REDACTED"

# Request headers worth keeping: enough to read the cassette, nothing that identifies anyone.
_REQUEST_HEADERS = frozenset(
    {"accept", "content-type", "openai-beta", "user-agent", "x-stainless-lang", "x-stainless-package-version"}
)
_RESPONSE_HEADERS_DROPPED = frozenset({"set-cookie", "set-cookie2", "openai-organization", "openai-project"})
_SECRET_HEADER = re.compile(r"auth|cookie|token|secret|api[-_]?key|password|session", re.IGNORECASE)

# A key names a secret when its last word is one of these ("api_key", "accessToken", "x-api-key"),
# but not "max_tokens" or "prompt_tokens".
_SECRET_KEY = re.compile(
    r"(?:^|[_\-.])(?:api_?key|apikey|key_?secret|secret(?:_?key)?|token|access_?token|refresh_?token|"
    r"id_?token|session_?token|auth_?token|password|passwd|authorization|cookie|credentials?|private_?key)$",
    re.IGNORECASE,
)
# Real keys and ids are long (OpenAI's are 24 characters or more after the prefix); a short
# match such as "sk-learn" or "org-chart" is ordinary text.
_SECRET_VALUES = [
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"), "sk-" + REDACTED),
    (re.compile(r"\borg-[A-Za-z0-9]{16,}"), "org-" + REDACTED),
    (re.compile(r"\bproj_[A-Za-z0-9]{16,}"), "proj_" + REDACTED),
]
# An HTTP credential: the scheme as HTTP writes it (case-sensitive, so "basic arithmetic" is
# left alone), then a token-looking value.
_AUTH_SCHEME = re.compile(r"\b(Bearer|Basic)\s+([A-Za-z0-9._~+/\-]{16,}=*)")


def _is_token(value: str) -> bool:
    # A long word ("Basic Internationalization") is not a token: a token has a digit, a symbol
    # or a capital letter after its first character.
    return any(c.isdigit() or c in "._~+/=" or c.isupper() for c in value[1:])


def _scrub_auth(match: re.Match[str]) -> str:
    return f"{match[1]} {REDACTED}" if _is_token(match[2]) else match[0]


def _normalise_key(key: str) -> str:
    # camelCase -> snake_case, so "apiKey" and "accessToken" are caught like "api_key".
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key)


def is_secret_key(key: str) -> bool:
    """Whether a mapping key or header name holds a secret."""
    return bool(_SECRET_KEY.search(_normalise_key(key)))


def scrub_text(text: str) -> str:
    """Replace API keys, bearer tokens and account ids inside free text."""
    for pattern, replacement in _SECRET_VALUES:
        text = pattern.sub(replacement, text)
    return _AUTH_SCHEME.sub(_scrub_auth, text)


def scrub_value(value: Any) -> Any:
    """Return ``value`` with secrets replaced, recursing into mappings and lists.

    Only leaves under a secret-named key are replaced: ``"password": {"type": "string"}`` is a
    JSON schema, not a password, and is kept.
    """
    if isinstance(value, dict):
        # In logprobs, "token" is a piece of the model's text, not a credential.
        is_logprob = "logprob" in value
        return {
            k: REDACTED
            if isinstance(k, str)
            and is_secret_key(k)
            and not (is_logprob and k == "token")
            and isinstance(v, (str, int, float))
            and v != ""
            else scrub_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub_value(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def scrub_uri(uri: str) -> str:
    """Replace secrets in a URL's query string (Azure's ``api-key=...``) and user info."""
    parts = urlsplit(uri)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode(
        [
            (k, REDACTED if is_secret_key(k) or k.lower() in ("key", "sig") else scrub_text(v))
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub_interaction(interaction: dict[str, Any]) -> dict[str, Any]:
    """Scrub one serialized interaction (``{"request": ..., "response": ...}``) in place and return it."""
    request = interaction.get("request") or {}
    response = interaction.get("response") or {}
    if "uri" in request:
        request["uri"] = scrub_uri(str(request["uri"]))
    request["headers"] = {
        name: [scrub_text(str(v)) for v in values]
        for name, values in (request.get("headers") or {}).items()
        if name.lower() in _REQUEST_HEADERS
    }
    response["headers"] = {
        name: [scrub_text(str(v)) for v in values]
        for name, values in (response.get("headers") or {}).items()
        if name.lower() not in _RESPONSE_HEADERS_DROPPED and not _SECRET_HEADER.search(name)
    }
    request["body"] = scrub_value(request.get("body"))
    body = response.get("body")
    if isinstance(body, dict):
        response["body"] = {k: scrub_value(v) for k, v in body.items()}
    else:
        response["body"] = scrub_value(body)
    return interaction

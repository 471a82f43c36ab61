"""Remove secret-looking values from text that leaves the process (tool errors sent to the model)."""

from __future__ import annotations

import json
import re
from typing import Any

_PATTERNS = [
    # OpenAI-style and similar API keys.
    re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{8,}"),
    # Authorization header values.
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"),
    # key=value / key: value where the key names a secret.
    re.compile(
        r"(?i)\b([\w-]*(?:api[_-]?key|token|secret|password|passwd|pwd|credential)s?)(\s*[=:]\s*)"
        r"(['\"]?)[^\s'\",;]+\3"
    ),
    # Credentials inside URLs: scheme://user:password@host.
    re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@]+:)[^\s@/]+@"),
    # Long opaque tokens (hex or base64-ish, 32+ characters).
    re.compile(r"\b[A-Za-z0-9+/_\-]{40,}={0,2}"),
]

REDACTED = "[REDACTED]"


def redact(text: str) -> str:
    """Replace anything that looks like a credential in ``text`` with ``[REDACTED]``."""
    text = _PATTERNS[0].sub(REDACTED, text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PATTERNS[2].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _PATTERNS[3].sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    return _PATTERNS[4].sub(REDACTED, text)


# --- Precise redaction for data that is kept (cassettes), not just shown -------------------------
#
# ``redact`` above is for text a model reads once; it may over-redact. What follows keeps the
# surrounding structure intact (``postgres://user:REDACTED@host/db``, ``sk-REDACTED``) and leaves
# ordinary words alone, so a redacted request body still means the same thing and still matches
# the same redacted recording. Every function is idempotent.

MARK = "REDACTED"
"""What a secret is replaced with by :func:`redact_text` and :func:`redact_value`."""

# A key names a secret when its last word is one of these ("api_key", "accessToken", "x-api-key",
# "api-key"), but not "max_tokens" or "prompt_tokens".
_SECRET_KEY = re.compile(
    r"(?:^|[_\-.])(?:api[_-]?key|apikey|key_?secret|secret(?:_?key)?|token|access_?token|refresh_?token|"
    r"id_?token|session_?token|auth_?token|password|passwd|pwd|authorization|cookie|credentials?|"
    r"private_?key|client_?secret)$",
    re.IGNORECASE,
)
# Token formats with a well-known prefix. Real keys are long (OpenAI's are 24 characters or more
# after the prefix; GitHub's 36; AWS access key ids 16 after AKIA/ASIA); a short match such as
# "sk-learn" or "org-chart" is ordinary text.
_PREFIXED_TOKENS = [
    (re.compile(r"\bsk-(?!REDACTED)[A-Za-z0-9_\-]{16,}"), "sk-"),
    (re.compile(r"\borg-[A-Za-z0-9]{16,}"), "org-"),
    (re.compile(r"\bproj_[A-Za-z0-9]{16,}"), "proj_"),
    (re.compile(r"\b(gh[pousr]_)[A-Za-z0-9]{20,}"), None),
    (re.compile(r"\b(github_pat_)[A-Za-z0-9_]{20,}"), None),
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), None),
    (re.compile(r"\b(xox[abprs]-)[A-Za-z0-9\-]{10,}"), None),
]
# An HTTP credential: the scheme as HTTP writes it (case-sensitive, so "basic arithmetic" is left
# alone), then a token-looking value.
_AUTH_SCHEME = re.compile(r"\b(Bearer|Basic)\s+([A-Za-z0-9._~+/\-]{16,}=*)")
# scheme://user:password@host: the password goes, the user and host stay.
_URL_PASSWORD = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)([^\s@/]+)@")
# key=value (environment and query-string style) and "key": "value" / 'key': 'value' (JSON or
# Python reprs inside text); the key must name a secret.
_ASSIGNMENT = re.compile(r"(?<![\w-])([A-Za-z_][\w.\-]*)(=)([^\s&;,'\"]+)")
_QUOTED_PAIR = re.compile(r"""(["'])([A-Za-z_][\w.\-]*)\1(\s*[:=]\s*)(["'])((?:\\.|(?!\4).)*)\4""")


def _is_token(value: str) -> bool:
    # A long word ("Basic Internationalization") is not a token: a token has a digit, a symbol or
    # a capital letter after its first character.
    return any(c.isdigit() or c in "._~+/=" or c.isupper() for c in value[1:])


def is_secret_key(key: str) -> bool:
    """Whether a mapping key, header name or query parameter names a secret (camelCase too)."""
    return bool(_SECRET_KEY.search(re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key)))


def redact_text(text: str) -> str:
    """Replace credentials inside free text, keeping the text around them.

    Handles prefixed tokens (``sk-``, ``org-``, ``proj_``, ``ghp_``, ``github_pat_``, ``AKIA``,
    ``xoxb-``), ``Bearer``/``Basic`` credentials, URL passwords, ``secret_key=value`` and
    ``"password": "value"`` shapes, and JSON embedded in the string (a tool result or tool-call
    ``arguments`` that is itself JSON), which is redacted as a value and written back.
    """
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            pass
        else:
            cleaned = redact_value(parsed)
            if cleaned == parsed:
                return text
            spaced = ", " in stripped or ": " in stripped
            separators = (", ", ": ") if spaced else (",", ":")
            return json.dumps(cleaned, ensure_ascii=False, separators=separators)
    for pattern, prefix in _PREFIXED_TOKENS:
        text = pattern.sub(lambda m, p=prefix: (p or m[1]) + MARK, text)  # type: ignore[misc]
    text = _AUTH_SCHEME.sub(lambda m: f"{m[1]} {MARK}" if _is_token(m[2]) else m[0], text)
    text = _URL_PASSWORD.sub(lambda m: f"{m[1]}{MARK}@", text)
    text = _ASSIGNMENT.sub(lambda m: f"{m[1]}{m[2]}{MARK}" if is_secret_key(m[1]) else m[0], text)
    return _QUOTED_PAIR.sub(
        lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{MARK}{m[4]}" if is_secret_key(m[2]) and m[5] else m[0],
        text,
    )


def redact_value(value: Any) -> Any:
    """Return ``value`` with secrets replaced at any depth of mappings, lists and strings.

    A leaf under a secret-named key is replaced whole; ``"password": {"type": "string"}`` is a
    JSON schema, not a password, and is kept. In logprobs, ``"token"`` is a piece of the model's
    text and is kept too.
    """
    if isinstance(value, dict):
        is_logprob = "logprob" in value
        return {
            k: MARK
            if isinstance(k, str)
            and is_secret_key(k)
            and not (is_logprob and k == "token")
            and isinstance(v, (str, int, float))
            and not isinstance(v, bool)
            and v != ""
            else redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value

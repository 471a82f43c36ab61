"""Remove secret-looking values from text that leaves the process (tool errors sent to the model)."""

from __future__ import annotations

import re

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

"""Turn any tool return value into the text the model reads, deterministically and bounded.

One serializer for tool results (and, in the test kit, for arguments and request bodies), so the
same value always gives the same text and recorded cassettes match in any process:

- ``str`` passes through; a lone surrogate (which no JSON encoder can write) becomes U+FFFD.
- ``bytes``/``bytearray``/``memoryview``: a JSON object ``{"media_type": ..., "encoding":
  "base64", "data": ...}``; the media type is sniffed from the magic bytes (PNG, JPEG, GIF, WebP,
  PDF) or is ``application/octet-stream``. MCP image results use the same form.
- everything else becomes compact JSON via pydantic (models, dataclasses, datetimes, UUIDs, enums),
  with sets and frozensets sorted at any depth;
- an object with no JSON form becomes its ``repr`` with memory addresses removed
  (``<Foo object at 0x7f...>`` would change on every run).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from typing import Any

import pydantic
import pydantic_core

_MARKER = "\n[... {omitted} characters omitted by agentkit ...]\n"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]


def serialize_output(value: Any) -> str:
    """Serialize a tool's return value (see the module docstring for the rules)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return to_json(bytes_payload(bytes(value)))
    return to_json(value)


def to_json(value: Any) -> str:
    """Compact, canonical JSON of ``value``: sets sorted at any depth, no memory addresses.

    Raises:
        ValueError: ``value`` contains something that cannot be JSON even as text (e.g. a
            circular reference).
    """
    jsonable = pydantic_core.to_jsonable_python(_canonical(value), fallback=stable_repr, bytes_mode="base64")
    return clean_text(json.dumps(jsonable, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


def bytes_payload(data: bytes) -> dict[str, str]:
    """The JSON object a ``bytes`` result (or an MCP image) is sent to the model as."""
    media_type = next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
    if media_type is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        media_type = "image/webp"
    return {
        "media_type": media_type or "application/octet-stream",
        "encoding": "base64",
        "data": base64.b64encode(data).decode("ascii"),
    }


def clean_text(text: str) -> str:
    """Replace lone surrogates (not encodable as UTF-8) with U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def stable_repr(value: Any) -> str:
    """``repr(value)`` without memory addresses, so it is the same in every process."""
    return _ADDRESS.sub("", repr(value))


def _canonical(value: Any, depth: int = 0) -> Any:
    """Sort sets at any depth, through dicts, sequences, pydantic models and dataclasses."""
    if depth > 200:
        raise ValueError("the value is nested too deeply (or refers to itself)")
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (set, frozenset)):
        items = [_canonical(v, depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=stable_repr))
    if isinstance(value, dict):
        return {k if isinstance(k, str) else _key(k): _canonical(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v, depth + 1) for v in value]
    if isinstance(value, pydantic.BaseModel):
        return _canonical(value.model_dump(mode="python"), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _canonical({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, depth + 1)
    return value


def _key(key: Any) -> str:
    jsonable = pydantic_core.to_jsonable_python(key, fallback=stable_repr)
    return jsonable if isinstance(jsonable, str) else json.dumps(jsonable)


def truncate(text: str, limit: int | None) -> str:
    """Keep the head and the tail of ``text`` when it is longer than ``limit`` characters."""
    if limit is None or len(text) <= limit:
        return text
    budget = max(limit - len(_MARKER.format(omitted=len(text))), 0)
    head = budget * 2 // 3
    tail = budget - head
    omitted = len(text) - head - tail
    return text[:head] + _MARKER.format(omitted=omitted) + (text[-tail:] if tail else "")

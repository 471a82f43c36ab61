"""Turn any tool return value into the text the model reads, deterministically and bounded."""

from __future__ import annotations

import json
from typing import Any

import pydantic_core

_MARKER = "\n[... {omitted} characters omitted by agentkit ...]\n"


def serialize_output(value: Any) -> str:
    """Serialize a tool's return value.

    Strings pass through unchanged. Everything else (dicts, lists, pydantic models, dataclasses,
    datetimes, UUIDs, ``None``, ...) becomes compact JSON with keys in their natural order and
    sets sorted, so the same value always gives the same text (and the same cassette).
    """
    if isinstance(value, str):
        return value
    jsonable = pydantic_core.to_jsonable_python(value, fallback=repr)
    return json.dumps(_sort_sets(value, jsonable), ensure_ascii=False, separators=(",", ":"))


def _sort_sets(original: Any, jsonable: Any) -> Any:
    # pydantic turns a set into a list in iteration order, which depends on hashing: sort it.
    if isinstance(original, (set, frozenset)) and isinstance(jsonable, list):
        try:
            return sorted(jsonable)
        except TypeError:
            return sorted(jsonable, key=repr)
    if isinstance(original, dict) and isinstance(jsonable, dict):
        return {k2: _sort_sets(v, jsonable[k2]) for v, k2 in zip(original.values(), jsonable, strict=True)}
    return jsonable


def truncate(text: str, limit: int | None) -> str:
    """Keep the head and the tail of ``text`` when it is longer than ``limit`` characters."""
    if limit is None or len(text) <= limit:
        return text
    budget = max(limit - len(_MARKER.format(omitted=len(text))), 0)
    head = budget * 2 // 3
    tail = budget - head
    omitted = len(text) - head - tail
    return text[:head] + _MARKER.format(omitted=omitted) + (text[-tail:] if tail else "")

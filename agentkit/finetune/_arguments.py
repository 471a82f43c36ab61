"""Validators of tool-call arguments against each tool's ``parameters`` schema.

A file repeats the same few tool schemas on every line, so each validator is built once. Strict
function schemas (what ``@tool`` generates: objects of typed properties, ``required``,
``additionalProperties: false``, ``enum``, arrays) are checked by a small direct walk first;
jsonschema runs only for other keywords, and to word the error when the walk finds one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["Validator", "validators"]

Validator = Callable[[Any], list[str]]
"""Returns the problems of one arguments object, empty when it is valid."""

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
# Keywords that do not constrain the value, and those the walk understands.
_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "$comment"})
_WALKED = (
    frozenset({"type", "properties", "required", "additionalProperties", "enum", "items"}) | _ANNOTATIONS
)


def _walk(schema: Any, value: Any) -> bool | None:
    """``True``/``False`` when the walk can decide, ``None`` for a schema it does not cover."""
    if not isinstance(schema, dict) or not schema.keys() <= _WALKED:
        return None
    ok = _walk_type(schema, value)
    if ok is not True:
        return ok
    if isinstance(value, dict):
        return _walk_object(schema, value)
    if isinstance(value, list) and "items" in schema:
        for item in value:
            ok = _walk(schema["items"], item)
            if ok is not True:
                return ok
    return True


def _walk_type(schema: dict[str, Any], value: Any) -> bool | None:
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if any(k not in _TYPES for k in kinds):
            return None
        if not any(_TYPES[k](value) for k in kinds):
            return False
    if "enum" in schema:
        if isinstance(value, bool) or any(isinstance(e, bool) for e in schema["enum"]):
            return None  # 1 == True in Python, not in JSON Schema: leave it to jsonschema
        return value in schema["enum"]
    return True


def _walk_object(schema: dict[str, Any], value: dict[str, Any]) -> bool | None:
    properties = schema.get("properties", {})
    if any(name not in value for name in schema.get("required", ())):
        return False
    extra = schema.get("additionalProperties", True)
    if extra is False and not value.keys() <= properties.keys():
        return False
    if extra not in (True, False):
        return None
    for name, item in value.items():
        if name in properties:
            ok = _walk(properties[name], item)
            if ok is not True:
                return ok
    return True


def _build(schema: Any) -> Validator:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(exc.message) from exc
    checker = Draft202012Validator(schema)

    def check(instance: Any) -> list[str]:
        if _walk(schema, instance) is True:
            return []
        return [
            f"{'.'.join(map(str, e.path)) or '<arguments>'}: {e.message}"
            for e in checker.iter_errors(instance)
        ]

    return check


def validators() -> Callable[[Any], Validator]:
    """A factory ``schema -> Validator`` that builds each distinct schema's validator once.

    Raises (from the factory):
        ValueError: The schema is not a valid JSON schema.
    """
    recent: list[tuple[Any, Validator]] = []
    by_text: dict[str, Validator] = {}

    def get(schema: Any) -> Validator:
        # Equal dicts compare in C: cheaper than serializing the schema on every line.
        for known, validator in recent:
            if known == schema:
                return validator
        key = json.dumps(schema, sort_keys=True)
        if key not in by_text:
            by_text[key] = _build(schema)
        if len(recent) < 64:
            recent.append((schema, by_text[key]))
        return by_text[key]

    return get

"""Unknown fields at every depth of a tool's arguments.

pydantic ignores extra keys of nested models, dataclasses and TypedDicts by default, so a model
that misspells a nested field would silently lose it. The natural JSON schema of the parameters
knows every object's properties; this walk reports keys an object does not declare (unless its
schema allows extra keys with ``additionalProperties``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class UnknownFields:
    """Finds undeclared keys in a value, by the JSON schema it was validated against."""

    def __init__(self, defs: Mapping[str, Any]) -> None:
        self._defs = defs

    def find(self, value: Any, schema: Any, path: str) -> list[str]:
        """Return the dotted paths of every undeclared key in ``value``."""
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return []
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            return self._closest(value, branches, path)
        found: list[str] = []
        for sub in schema.get("allOf") or ():
            found.extend(self.find(value, sub, path))
        if isinstance(value, dict):
            found.extend(self._object(value, schema, path))
        elif isinstance(value, list):
            found.extend(self._array(value, schema, path))
        return found

    def _closest(self, value: Any, branches: list[Any], path: str) -> list[str]:
        # A union: fine when one branch declares every key; else report against the closest branch.
        results = [self.find(value, branch, path) for branch in branches]
        return min(results, key=len) if results else []

    def _object(self, value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
        properties = schema.get("properties")
        extra = schema.get("additionalProperties", properties is None)
        found: list[str] = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if properties is not None and key in properties:
                found.extend(self.find(item, properties[key], where))
            elif extra is False:
                found.append(where)
            elif isinstance(extra, dict):
                found.extend(self.find(item, extra, where))
        return found

    def _array(self, value: list[Any], schema: dict[str, Any], path: str) -> list[str]:
        prefix = schema.get("prefixItems") or []
        items = schema.get("items")
        found: list[str] = []
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else items
            if sub is not None:
                found.extend(self.find(item, sub, f"{path}.{i}"))
        return found

    def _resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 32:
            ref = schema["$ref"]
            name = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else ""
            schema = self._defs.get(name, {})
            seen += 1
        return schema

"""Check generated schemas against the JSON Schema 2020-12 meta-schema, cheaply.

Validity is decided node by node: a node is checked with its subschemas replaced by ``true`` and
its names and descriptions blanked, and the shapes already seen are remembered. That gives the
same verdict as ``Draft202012Validator.check_schema`` at a fraction of its cost (the property test
in tests/test_schema_properties.py compares the two).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from ..exceptions import ToolDefinitionError
from .strict_schema import map_subschemas

__all__ = ["check_json_schema"]


def check_json_schema(schema: Mapping[str, Any], where: str) -> None:
    """Check a schema against the JSON Schema 2020-12 meta-schema with ``jsonschema``.

    Raises:
        ToolDefinitionError: The schema is not a valid JSON schema.
    """
    for path, node in _nodes(schema, "#"):
        shape = json.dumps(_shape(node), sort_keys=True, default=repr)
        if shape in _VALID_SHAPES:
            continue
        from jsonschema.exceptions import best_match

        error = best_match(_meta_validator().iter_errors(json.loads(shape)))
        if error is not None:
            raise ToolDefinitionError(
                f"{where}: the generated JSON schema is invalid at {path}: {error.message}"
            )
        _VALID_SHAPES.add(shape)


_VALID_SHAPES: set[str] = set()


@lru_cache(maxsize=1)
def _meta_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(
        Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _nodes(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, bool):
        return
    yield path, node
    if not isinstance(node, dict):
        return
    children: list[tuple[str, Any]] = []
    map_subschemas(node, lambda sub, key, name: children.append((f"{key}/{name}" if name else key, sub)))
    for step, child in children:
        yield from _nodes(child, f"{path}/{step}")


def _shape(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    shape = map_subschemas(node, lambda sub, _k, _n: True if isinstance(sub, (dict, bool)) else sub)
    for key in ("properties", "$defs"):
        if isinstance(shape.get(key), dict):
            shape[key] = {f"k{i}": sub for i, sub in enumerate(shape[key].values())}
    if isinstance(node.get("properties"), dict) and isinstance(node.get("required"), list):
        shape["required"] = _renamed_required(node["properties"], node["required"])
    for key, blank in (("description", ""), ("title", ""), ("default", None), ("const", None)):
        if key in shape and (blank is None or isinstance(shape[key], str)):
            shape[key] = blank
    for key in ("enum", "examples"):
        if isinstance(shape.get(key), list):
            shape[key] = []
    return shape


def _renamed_required(properties: dict[str, Any], required: list[Any]) -> list[Any]:
    # Rename consistently, so that "required" keeps its uniqueness and its link to the properties.
    index = {name: f"k{i}" for i, name in enumerate(properties)}
    for name in required:
        if isinstance(name, str) and name not in index:
            index[name] = f"u{len(index)}"
    return [index.get(r, r) if isinstance(r, str) else r for r in required]

"""Turn a tool's natural JSON schema into one OpenAI strict mode accepts, and check the rules.

Strict mode (structured outputs for function calling) requires ``additionalProperties: false``
on every object, every property listed in ``required``, and only a subset of JSON Schema.
The transform never drops information silently: every change is described in the report, and
keywords strict mode does not support are moved into the ``description`` text, where the model
still reads them (agentkit's own validation keeps enforcing them).

A schema that cannot be made strict (free-form objects such as ``dict[str, int]``, ``Any``,
tuples with positional items, ...) raises :class:`NotStrictError` with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "NotStrictError",
    "STRICT_FORMATS",
    "STRICT_KEYWORDS",
    "map_subschemas",
    "strict_violations",
    "to_strict_schema",
]

STRICT_KEYWORDS = frozenset(
    {
        # structure
        "type", "properties", "required", "additionalProperties", "items", "anyOf", "enum", "const",
        "$ref", "$defs", "description", "title",
        # constraints strict mode supports
        "pattern", "format", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "minItems", "maxItems",
    }
)  # fmt: skip
"""Keywords OpenAI strict mode accepts."""

STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
"""String formats OpenAI strict mode accepts."""

# Keywords that change which values are valid and cannot be rephrased as a hint in the description.
_STRUCTURAL = frozenset(
    {
        "prefixItems", "patternProperties", "not", "if", "then", "else", "dependentSchemas",
        "dependentRequired", "unevaluatedItems", "unevaluatedProperties", "contains", "propertyNames",
        "allOf", "$dynamicRef", "$anchor", "$dynamicAnchor",
    }
)  # fmt: skip

_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "$defs", "patternProperties", "dependentSchemas"})
_SCHEMA_LIST_KEYWORDS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
_SCHEMA_KEYWORDS = frozenset(
    {
        "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties",
    }
)  # fmt: skip


class NotStrictError(Exception):
    """The schema cannot be expressed in strict mode; the message says why."""


def map_subschemas(node: Mapping[str, Any], fn: Callable[[Any, str, str | None], Any]) -> dict[str, Any]:
    """Return a copy of one schema node with ``fn(subschema, keyword, name)`` applied to each subschema.

    ``name`` is the property or definition name for ``properties``/``$defs``, else ``None``.
    Values of other keywords (``default``, ``enum``, ``const``, ``examples``) are kept as they are.
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            out[key] = {k: fn(v, key, k) for k, v in value.items()}
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            out[key] = [fn(v, key, None) for v in value]
        elif key in _SCHEMA_KEYWORDS and isinstance(value, (dict, bool)):
            out[key] = fn(value, key, None)
        else:
            out[key] = value
    return out


def to_strict_schema(
    schema: Mapping[str, Any], *, nullable: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Transform a tool's natural parameters schema into a strict one.

    Args:
        schema: The natural schema: a root object whose optional properties have defaults.
        nullable: Top-level properties that have a Python default, mapped to it. They become
            required and nullable; agentkit turns a ``null`` back into the default.

    Returns:
        The strict schema and the human-readable list of what had to change.

    Raises:
        NotStrictError: The schema cannot be expressed in strict mode.
    """
    transform = _Transform(schema)
    properties = dict(schema.get("properties", {}))
    defaults: dict[str, Any] = {}
    for name in nullable:
        prop = dict(properties[name])
        defaults[name] = prop.pop("default", nullable[name])
        properties[name] = prop
    out = transform.node({**schema, "properties": properties}, "")
    for name, default in defaults.items():
        prop = out["properties"][name]
        hint = f"(default: {_json(default)})"
        prop["description"] = f"{prop['description']} {hint}" if prop.get("description") else hint
        caveat = ", not None" if _accepts_null(prop) and nullable[name] is not None else ""
        out["properties"][name] = _make_nullable(prop)
        transform.report.append(
            f"'{name}' has a default ({nullable[name]!r}): required and nullable in strict mode; "
            f"a null from the model means the default{caveat}"
        )
    return out, transform.report


class _Transform:
    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.defs: Mapping[str, Any] = schema.get("$defs", {})
        self.report: list[str] = []

    def node(self, node: Any, path: str) -> dict[str, Any]:
        where = f"'{path}'" if path else "the parameters"
        if node is True or node == {} or (isinstance(node, dict) and set(node) <= {"description", "default"}):
            raise NotStrictError(f"{where} accepts any JSON value (Any or an unannotated type)")
        if not isinstance(node, dict):
            raise NotStrictError(f"{where} is a schema strict mode cannot express: {node!r}")
        node = self._flatten(dict(node), where)
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
            node.pop("discriminator", None)
            self.report.append(f"{where}: 'oneOf' became 'anyOf' (agentkit still accepts exactly one)")
        for key in sorted(_STRUCTURAL & node.keys()):
            raise NotStrictError(f"{where} uses '{key}', which strict mode does not support")
        if node.get("type") == "object" or "properties" in node:
            self._object(node, path, where)
        moved = [key for key in node if key not in STRICT_KEYWORDS]
        if node.get("format", next(iter(STRICT_FORMATS))) not in STRICT_FORMATS:
            moved.append("format")
        if moved:
            hints = ", ".join(f"{key}: {_json(node.pop(key))}" for key in moved)
            node["description"] = (
                f"{node['description']} ({hints})" if node.get("description") else f"({hints})"
            )
            self.report.append(f"{where}: moved {', '.join(moved)} into the description")
        node.pop("title", None)
        return map_subschemas(node, lambda sub, key, name: self._child(sub, _child_path(path, key, name)))

    def _child(self, sub: Any, path: str) -> Any:
        return sub if sub is False else self.node(sub, path)

    def _flatten(self, node: dict[str, Any], where: str) -> dict[str, Any]:
        """Inline a ``$ref`` that has siblings and merge a one-item ``allOf``, as the OpenAI SDK does."""
        for _ in range(32):
            if "$ref" in node and len(node) > 1:
                node = {**self._resolve(node.pop("$ref"), where), **node}
            elif "allOf" in node and isinstance(node["allOf"], list) and len(node["allOf"]) == 1:
                node = {**node.pop("allOf")[0], **node}
            else:
                return node
        raise NotStrictError(f"{where} has references that never resolve to a schema")

    def _object(self, node: dict[str, Any], path: str, where: str) -> None:
        if node.get("additionalProperties", False) is not False:
            raise NotStrictError(
                f"{where} is an object with free-form keys (e.g. dict[str, ...]); strict mode needs fixed "
                "keys: use a pydantic model, dataclass or TypedDict, or strict=False"
            )
        if "properties" not in node:
            raise NotStrictError(f"{where} is an object without declared properties")
        optional = [name for name in node["properties"] if name not in node.get("required", ())]
        if optional and path:
            names = ", ".join(repr(n) for n in optional)
            self.report.append(f"{where}: {names} made required (strict mode has no optional fields)")
        node["additionalProperties"] = False
        node["required"] = list(node["properties"])

    def _resolve(self, ref: str, where: str) -> dict[str, Any]:
        prefix = "#/$defs/"
        name = ref[len(prefix) :]
        if not ref.startswith(prefix) or name not in self.defs:
            raise NotStrictError(f"{where} has a reference strict mode cannot resolve: {ref}")
        return dict(self.defs[name])


def _child_path(path: str, key: str, name: str | None) -> str:
    if key == "$defs":
        return str(name)
    if key == "properties":
        return f"{path}.{name}" if path else str(name)
    if key in ("items", "additionalProperties"):
        return f"{path}[]"
    return path


def _make_nullable(prop: dict[str, Any]) -> dict[str, Any]:
    if _accepts_null(prop):
        return prop
    description = prop.pop("description", None)
    branches = prop["anyOf"] if set(prop) == {"anyOf"} else [prop]
    out: dict[str, Any] = {"anyOf": [*branches, {"type": "null"}]}
    if description is not None:
        out["description"] = description
    return out


def _accepts_null(prop: Mapping[str, Any]) -> bool:
    typ = prop.get("type")
    if typ == "null" or (isinstance(typ, list) and "null" in typ):
        return True
    return any(_accepts_null(branch) for branch in prop.get("anyOf", ()) if isinstance(branch, dict))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def strict_violations(schema: Mapping[str, Any]) -> list[str]:
    """List every way ``schema`` breaks OpenAI's strict-mode rules; empty when it complies.

    The rules are those ``openai.lib._pydantic.to_strict_json_schema`` enforces (every object
    closed with ``additionalProperties: false``, every property required, no ``$ref`` with
    siblings) plus the documented keyword subset.
    """
    problems: list[str] = []
    if schema.get("type") != "object":
        problems.append("the root is not an object")
    _check(schema, "#", problems)
    return problems


def _check(node: Any, path: str, problems: list[str]) -> None:
    if not isinstance(node, dict):
        problems.append(f"{path}: boolean schema {node!r}")
        return
    problems.extend(f"{path}: {problem}" for problem in _node_problems(node))
    for key, value in node.items():
        if key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            for name, sub in value.items():
                _check(sub, f"{path}/{key}/{name}", problems)
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            for i, sub in enumerate(value):
                _check(sub, f"{path}/{key}/{i}", problems)
        elif key in _SCHEMA_KEYWORDS and key != "additionalProperties":
            _check(value, f"{path}/{key}", problems)


def _node_problems(node: dict[str, Any]) -> list[str]:
    """What strict mode rejects in one schema node, not counting its subschemas."""
    problems = [f"unsupported keyword {key!r}" for key in node.keys() - STRICT_KEYWORDS]
    if not node.keys() - {"description", "title", "$defs"}:
        problems.insert(0, "empty schema (accepts anything)")
    if "format" in node and node["format"] not in STRICT_FORMATS:
        problems.append(f"unsupported format {node['format']!r}")
    if "$ref" in node and len(node) > 1:
        problems.append("$ref with sibling keywords")
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            problems.append("object without additionalProperties: false")
        if list(node.get("required", ())) != list(node.get("properties", {})):
            problems.append("required is not the list of all properties")
    return problems

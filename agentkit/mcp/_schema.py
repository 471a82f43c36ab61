"""Turn an MCP tool's ``inputSchema`` into the parameters OpenAI accepts, and validate arguments.

The strict-mode transform is the core's (the one ``@tool`` uses); this module only prepares an
MCP schema for it and checks the result, so the two never disagree. Nothing is weakened
silently: a schema strict mode cannot express (free-form objects, recursion through the root,
keywords strict mode lacks) is sent unchanged with ``strict: false``, and every change or
reason is in the tool's ``strict_report``.

Arguments the model sends are validated against the server's own schema (with ``jsonschema``),
after the nulls strict mode made the model send for omitted optional fields are dropped.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.validators import validator_for

from agentkit._schema.strict_schema import NotStrictError, strict_violations, to_strict_schema
from agentkit.exceptions import FieldError, ToolArgumentsError, ToolDefinitionError

__all__ = ["ConvertedSchema", "convert_schema"]

_ANNOTATIONS = frozenset({"description", "title", "$schema", "$id", "$comment", "examples"})


@dataclass(frozen=True)
class ConvertedSchema:
    """An MCP tool's schema as the model sees it, and how to check what the model sends."""

    parameters: dict[str, Any]
    """The JSON schema sent to the model."""
    strict: bool
    """Whether ``parameters`` is sent in strict mode."""
    report: tuple[str, ...]
    """What strict mode changed, or why strict mode was not possible."""
    validator: Callable[[Mapping[str, Any]], dict[str, Any]]
    """Checks the model's decoded arguments and returns what to send to the server."""


def convert_schema(tool_name: str, schema: Any, *, strict: bool | None) -> ConvertedSchema:
    """Convert one MCP ``inputSchema``.

    Args:
        tool_name: The tool's name, for messages.
        schema: The ``inputSchema`` the server listed.
        strict: ``True`` requires strict mode, ``False`` never uses it, ``None`` uses it when possible.

    Raises:
        ToolDefinitionError: The schema is not a JSON schema, describes no object (arguments are
            always a JSON object, in MCP and in OpenAI), or ``strict=True`` cannot be honoured.
    """
    where = f"MCP tool {tool_name!r}"
    natural, report = _object_root(where, schema)
    try:
        validator_for(natural).check_schema(natural)
    except jsonschema.SchemaError as exc:
        raise ToolDefinitionError(f"{where}: inputSchema is not a valid JSON schema: {exc.message}") from None
    parameters, use_strict, omit_null = natural, False, frozenset[str]()
    if strict is not False:
        try:
            parameters, changes, optional = _to_strict(natural)
            report += changes
            use_strict = True
            # A null for an optional field means "not given", unless the server's schema takes null.
            omit_null = frozenset(name for name, prop in optional.items() if not _accepts_null(prop))
        except NotStrictError as exc:
            if strict:
                raise ToolDefinitionError(f"{where}: strict=True is not possible: {exc}") from None
            report.append(f"not strict: {exc}")
    return ConvertedSchema(
        parameters=parameters,
        strict=use_strict,
        report=tuple(report),
        validator=_Validator(tool_name, natural, omit_null),
    )


def _object_root(where: str, schema: Any) -> tuple[dict[str, Any], list[str]]:
    """Return the schema with an object root, and what was changed to get there."""
    if not isinstance(schema, dict):
        raise ToolDefinitionError(f"{where}: inputSchema is not a JSON schema object: {schema!r}")
    out = copy.deepcopy(schema)
    report: list[str] = []
    kind = out.get("type")
    if kind is None:
        if (
            out.keys()
            - _ANNOTATIONS
            - {"properties", "required", "additionalProperties", "$defs", "definitions"}
        ):
            raise ToolDefinitionError(
                f"{where}: inputSchema has no 'type': 'object' at its root; MCP and OpenAI pass arguments "
                "as a JSON object, so the tool cannot be offered to the model"
            )
        out["type"] = "object"
        report.append("the root had no 'type'; 'object' added (MCP arguments are always a JSON object)")
    elif isinstance(kind, list) and "object" in kind:
        out["type"] = "object"
        report.append(f"the root 'type' {kind} narrowed to 'object' (MCP arguments are always a JSON object)")
    elif kind != "object":
        raise ToolDefinitionError(
            f"{where}: inputSchema's root is of type {kind!r}, not 'object'; MCP and OpenAI pass "
            "arguments as a JSON object, so the tool cannot be offered to the model"
        )
    return out, report


def _to_strict(natural: dict[str, Any]) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Return the strict schema, what changed, and the root's optional properties by name."""
    schema = _inline_root_ref(_with_defs(natural))
    if "properties" not in schema:
        # Not narrowed to "no arguments": the server takes any object (or a union at the root).
        raise NotStrictError("the root declares no properties, so the server accepts other objects too")
    properties = schema["properties"]
    if not all(isinstance(properties[name], dict) for name in properties):
        raise NotStrictError("a property's schema is a boolean (true or false)")
    optional = {name: p for name, p in properties.items() if name not in schema.get("required", ())}
    # Optional root fields become required and nullable; a null is dropped before the call.
    out, report = to_strict_schema(schema, nullable={name: p.get("default") for name, p in optional.items()})
    problems = strict_violations(out)
    if problems:
        raise NotStrictError("; ".join(problems))
    return out, report, optional


def _with_defs(natural: dict[str, Any]) -> dict[str, Any]:
    """A copy without root annotations, with draft-07 ``definitions`` moved to ``$defs``."""
    schema = copy.deepcopy(natural)
    for key in ("$schema", "$id", "$comment"):
        schema.pop(key, None)
    if "definitions" in schema:
        # Draft-07 servers keep definitions under ``definitions``: the core resolves ``$defs``.
        if "$defs" in schema:
            raise NotStrictError("the schema has both 'definitions' and '$defs'")
        schema["$defs"] = schema.pop("definitions")
        schema = _rename_refs(schema)
    return schema


def _inline_root_ref(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        # A root that is a reference with siblings: inline it here, so its optional fields are
        # seen (and made nullable) like any root field.
        ref, defs = schema.pop("$ref"), schema.get("$defs", {})
        name = ref[len("#/$defs/") :] if isinstance(ref, str) and ref.startswith("#/$defs/") else None
        if name not in defs:
            raise NotStrictError(f"the root's reference {ref!r} does not name a definition")
        schema = {**defs[name], **schema}
        if f'"{ref}"' not in json.dumps(schema):
            del defs[name]  # Used only by the root: not sent twice.
        if not defs:
            schema.pop("$defs", None)
    return schema


def _rename_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _rename_refs(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            out["$ref"] = "#/$defs/" + ref[len("#/definitions/") :]
        return out
    if isinstance(node, list):
        return [_rename_refs(v) for v in node]
    return node


def _accepts_null(schema: Any) -> bool:
    if schema is True or not isinstance(schema, dict) or not schema.keys() - _ANNOTATIONS - {"default"}:
        return True
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_accepts_null(b) for key in ("anyOf", "oneOf") for b in schema.get(key, ()))


class _Validator:
    """Validates decoded arguments against the server's schema; lists every problem at once."""

    def __init__(self, tool_name: str, schema: dict[str, Any], omit_null: frozenset[str]) -> None:
        self.tool_name = tool_name
        self.omit_null = omit_null
        self.validator = validator_for(schema)(schema)

    def __call__(self, data: Mapping[str, Any]) -> dict[str, Any]:
        arguments = {k: v for k, v in data.items() if not (v is None and k in self.omit_null)}
        try:
            found = list(self.validator.iter_errors(arguments))
        except Exception as exc:  # e.g. an unresolvable $ref: the dispatcher expects ToolArgumentsError only
            problem = f"the server's inputSchema cannot be checked: {type(exc).__name__}: {exc}"
            raise ToolArgumentsError(self.tool_name, [FieldError("", problem)]) from exc
        errors = [
            FieldError(".".join(str(part) for part in error.absolute_path), error.message)
            for error in sorted(found, key=lambda e: [str(part) for part in e.absolute_path])
        ]
        if errors:
            raise ToolArgumentsError(self.tool_name, errors)
        return arguments

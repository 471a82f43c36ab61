"""Turn a function signature into a JSON schema and an argument validator, through pydantic.

Each parameter type gets one pydantic ``TypeAdapter``, cached by type: its JSON schema becomes
the property's schema and its validator checks the model's value. Tools share most parameter
types (``str``, ``list[str]``, ``int | None``), so most tools cost a few dict operations.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, ClassVar, get_args, get_origin

import pydantic
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticUndefined, to_jsonable_python

from .._context import RunContext
from ..exceptions import MissingDescriptionWarning, ToolDefinitionError
from .callable import inspect_callable
from .docstring import DocstringFormat, parse_docstring
from .strict_schema import map_subschemas

__all__ = [
    "FunctionSchema",
    "Parameter",
    "function_schema",
]

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_NO_DEFAULT: Any = inspect.Parameter.empty


@dataclass(eq=False)
class Parameter:
    """One parameter the model fills in."""

    name: str
    """The parameter name, as in the signature and the schema."""
    adapter: pydantic.TypeAdapter[Any]
    """Validates the model's value into the annotated Python type."""
    default: Any = _NO_DEFAULT
    """The Python default, or ``inspect.Parameter.empty`` when the parameter is required."""
    default_factory: Callable[[], Any] | None = None
    """Makes the default, from ``Field(default_factory=...)``."""

    @property
    def required(self) -> bool:
        """Whether the model must send this parameter."""
        return self.default is _NO_DEFAULT and self.default_factory is None

    def make_default(self) -> Any:
        """Return the Python default value."""
        return self.default_factory() if self.default_factory is not None else self.default


@dataclass(eq=False)
class FunctionSchema:
    """What the signature and docstring of a function say about it as a tool."""

    name: str
    """The tool name."""
    description: str
    """The tool description."""
    parameters: dict[str, Any]
    """The natural JSON schema of the arguments (defaults shown, parameters with defaults optional)."""
    params: tuple[Parameter, ...]
    """The parameters the model fills in, in signature order."""
    takes_context: bool
    """The first parameter is a ``RunContext`` and is not in the schema."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Parameters with a default, mapped to their Python default (the ``repr`` only)."""
    needs_deps: bool = False
    """The ``RunContext[Deps]`` parameter names a ``Deps`` that does not accept ``None``."""


def function_schema(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    docstring_format: DocstringFormat = "auto",
    require_descriptions: bool = False,
    localns: Mapping[str, Any] | None = None,
    stacklevel: int = 2,
) -> FunctionSchema:
    """Read a function's signature, type hints and docstring.

    ``func`` may also be a bound method, a ``functools.partial`` (its bound arguments are left
    out) or a callable instance (its ``__call__``, named after its class).

    ``localns`` resolves string annotations naming local types (``from __future__ import
    annotations`` in a function body); ``@tool`` passes the namespace it is applied in.

    Raises:
        ToolDefinitionError: The function cannot be a tool; the message says what to change.
    """
    callee = inspect_callable(func, f"tool {name!r}" if name else "tool")
    tool_name = name if name is not None else callee.name
    if name is None and not tool_name:
        raise ToolDefinitionError(f"cannot derive a tool name from {func!r}; pass name='...' to @tool")
    if not _NAME.match(tool_name):
        raise ToolDefinitionError(
            f"tool name {tool_name!r} must match ^[a-zA-Z0-9_-]{{1,64}}$; pass name='...' to @tool"
        )
    where = f"tool {tool_name!r}"
    signature = callee.signature
    hints = _type_hints(callee.function, where, localns)
    doc = parse_docstring(callee.doc, docstring_format)

    params: list[Parameter] = []
    properties: dict[str, Any] = {}
    defs: dict[str, Any] = {}
    undescribed: list[str] = []
    takes_context = False
    needs_deps = False
    for index, param in enumerate(signature.parameters.values()):
        annotation = hints.get(param.name, _NO_DEFAULT)
        if _is_context(annotation):
            _check_context_param(index, param, where)
            takes_context = True
            needs_deps = _needs_deps(annotation)
            continue
        _check_kind(param, where)
        if annotation is _NO_DEFAULT:
            raise ToolDefinitionError(
                f"{where}: parameter {param.name!r} has no type annotation; annotate it "
                "(use typing.Any to accept any JSON value)"
            )
        parameter, prop, explicit = _parameter(param, annotation, where)
        if not _describe(prop, explicit or doc.params.get(param.name)):
            undescribed.append(param.name)
        prop = _merge_defs(defs, prop)
        if not parameter.required and parameter.default_factory is None:
            # A default that has no JSON form is simply not shown.
            with contextlib.suppress(Exception):
                prop["default"] = to_jsonable_python(parameter.default)
        params.append(parameter)
        properties[param.name] = prop

    _report_undescribed(undescribed, where, require_descriptions, stacklevel + 1)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": [p.name for p in params if p.required],
        "additionalProperties": False,
    }
    if defs:
        schema["$defs"] = defs
    return FunctionSchema(
        name=tool_name,
        description=description if description is not None else doc.description,
        parameters=schema,
        params=tuple(params),
        takes_context=takes_context,
        needs_deps=needs_deps,
        defaults={p.name: p.make_default() for p in params if not p.required},
    )


def _check_context_param(index: int, param: inspect.Parameter, where: str) -> None:
    if index != 0:
        raise ToolDefinitionError(f"{where}: the RunContext parameter {param.name!r} must come first")
    if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
        raise ToolDefinitionError(f"{where}: the RunContext parameter {param.name!r} must be positional")


def _describe(prop: dict[str, Any], text: str | None) -> bool:
    """Set the property's description from the docstring; return whether it has one."""
    if text:
        prop["description"] = text
    return "description" in prop


def _type_hints(func: Callable[..., Any], where: str, localns: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func, localns=dict(localns) if localns else None, include_extras=True)
    except NameError as exc:
        raise ToolDefinitionError(
            f"{where}: cannot resolve a type annotation ({exc}); define or import the type at module "
            "level before the function (not only under TYPE_CHECKING)"
        ) from exc
    except Exception as exc:
        raise ToolDefinitionError(f"{where}: cannot evaluate the type annotations: {exc}") from exc


def _is_context(annotation: Any) -> bool:
    return annotation is RunContext or get_origin(annotation) is RunContext


def _needs_deps(annotation: Any) -> bool:
    """Whether ``RunContext[Deps]`` names a concrete ``Deps`` that ``None`` does not satisfy."""
    args = get_args(annotation)
    if not args:
        return False
    deps = args[0]
    if deps is Any or deps is None or deps is type(None) or isinstance(deps, typing.TypeVar):
        return False
    return type(None) not in get_args(deps)


def _check_kind(param: inspect.Parameter, where: str) -> None:
    if param.kind is param.VAR_POSITIONAL:
        raise ToolDefinitionError(
            f"{where}: *{param.name} is not supported, the model sends named arguments; "
            f"replace it with a parameter such as `{param.name}: list[...]`"
        )
    if param.kind is param.VAR_KEYWORD:
        raise ToolDefinitionError(
            f"{where}: **{param.name} is not supported, the schema needs every argument declared; "
            "declare each parameter, or take one `dict[str, ...]` or pydantic model parameter"
        )
    if param.kind is param.POSITIONAL_ONLY:
        raise ToolDefinitionError(
            f"{where}: parameter {param.name!r} is positional-only, but tools are called with keyword "
            "arguments; remove the `/` from the signature"
        )


def _parameter(
    param: inspect.Parameter, annotation: Any, where: str
) -> tuple[Parameter, dict[str, Any], str]:
    """Build the parameter, its property schema (a fresh dict) and its explicit description."""
    explicit = ""
    default, factory = param.default, None
    if isinstance(default, FieldInfo):
        # ``x: int = Field(3, description=...)``, as pydantic's validate_call accepts it.
        annotation = Annotated[annotation, default]
        factory = default.default_factory
        default = _NO_DEFAULT if default.default is PydanticUndefined else default.default
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        texts = [m for m in metadata if isinstance(m, str)]
        if texts:
            explicit = texts[0]
            annotation = base
            for m in metadata:  # Annotated[Annotated[T, a], b] is Annotated[T, a, b]
                if not isinstance(m, str):
                    annotation = Annotated[annotation, m]
        for m in metadata:
            if isinstance(m, FieldInfo) and m.description:
                explicit = m.description
    adapter, schema = _adapter(annotation, f"{where}: parameter {param.name!r}")
    parameter = Parameter(param.name, adapter, default, factory)  # type: ignore[arg-type]
    return parameter, dict(schema), explicit


class _SchemaGenerator(GenerateJsonSchema):
    """pydantic's JSON schema generator, minus its per-call setup cost.

    pydantic rebuilds the same keyword-to-method table by introspecting a ``Literal`` type on
    every call, which is most of the cost of a small schema; the names are computed once here.
    """

    _method_names: ClassVar[list[tuple[Any, str]]] = []

    def build_schema_type_to_method(self) -> dict[Any, Callable[[Any], JsonSchemaValue]]:
        if not _SchemaGenerator._method_names:
            mapping = super().build_schema_type_to_method()
            _SchemaGenerator._method_names = [(key, method.__name__) for key, method in mapping.items()]
        return {key: getattr(self, name) for key, name in self._method_names}


@lru_cache(maxsize=4096)
def _cached_adapter(annotation: Any) -> tuple[pydantic.TypeAdapter[Any], dict[str, Any]]:
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)
    return adapter, _strip_titles(adapter.json_schema(schema_generator=_SchemaGenerator))


def _adapter(annotation: Any, where: str) -> tuple[pydantic.TypeAdapter[Any], dict[str, Any]]:
    """Return the validator and the title-free JSON schema of a type; never mutate the schema."""
    try:
        try:
            return _cached_adapter(annotation)
        except TypeError as exc:
            if "unhashable" not in str(exc):
                raise
            return _cached_adapter.__wrapped__(annotation)
    except ToolDefinitionError:
        raise
    except Exception as exc:
        raise ToolDefinitionError(
            f"{where}: type {_type_name(annotation)} cannot be turned into a JSON schema ({exc}); use a "
            "JSON-friendly type: str, int, float, bool, Literal, Enum, list, dict[str, ...], a pydantic "
            "model, a dataclass or a TypedDict"
        ) from exc


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__qualname__", None) or repr(annotation)


def _strip_titles(node: Any) -> Any:
    """Drop pydantic's generated ``title`` keywords: they repeat the names and cost tokens."""
    if not isinstance(node, dict):
        return node
    return map_subschemas(
        {k: v for k, v in node.items() if k != "title"}, lambda sub, _k, _n: _strip_titles(sub)
    )


def _merge_defs(defs: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """Move a property's ``$defs`` to the root; rename a definition whose name is already taken."""
    own = prop.pop("$defs", None)
    if not own:
        return prop
    renames: dict[str, str] = {}
    for def_name, definition in own.items():
        if defs.get(def_name, definition) != definition:
            number = 2
            while f"{def_name}{number}" in defs or f"{def_name}{number}" in own:
                number += 1
            renames[f"#/$defs/{def_name}"] = f"#/$defs/{def_name}{number}"
    if renames:
        own = _rename_refs(own, renames)
        prop = _rename_refs(prop, renames)
    for ref, definition in own.items():
        defs[renames.get(f"#/$defs/{ref}", f"#/$defs/{ref}")[len("#/$defs/") :]] = definition
    return prop


def _rename_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rename_refs(v, renames)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def _report_undescribed(names: list[str], where: str, required: bool, stacklevel: int) -> None:
    if not names:
        return
    listed = ", ".join(repr(n) for n in names)
    message = (
        f"{where}: no description for parameter(s) {listed}; document them in the docstring's Args "
        "section or with Annotated[..., 'description']"
    )
    if required:
        raise ToolDefinitionError(message)
    warnings.warn(MissingDescriptionWarning(message), stacklevel=stacklevel)

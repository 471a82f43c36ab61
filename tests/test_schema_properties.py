"""Property test over generated signatures: every schema is valid JSON Schema, every strict one strict."""

from __future__ import annotations

import inspect
import keyword
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Optional, Union
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import Field, create_model

from agentkit import tool
from agentkit._schema.strict_schema import strict_violations

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n))
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=30).map(str.strip).filter(bool)
SCALARS = st.sampled_from([str, int, float, bool, type(None), datetime, date, UUID, Decimal])


@st.composite
def literals(draw: st.DrawFn) -> Any:
    values = draw(st.lists(st.one_of(st.integers(-5, 5), WORDS), min_size=1, max_size=4, unique=True))
    return Literal[tuple(values)]


@st.composite
def enums(draw: st.DrawFn) -> Any:
    values = draw(st.lists(WORDS, min_size=1, max_size=4, unique=True))
    return Enum("Choice", {f"V{i}": v for i, v in enumerate(values)})


@st.composite
def models(draw: st.DrawFn, inner: st.SearchStrategy[Any]) -> Any:
    names = draw(
        st.lists(NAMES.filter(lambda n: not n.startswith("model_")), min_size=1, max_size=3, unique=True)
    )
    fields: dict[str, Any] = {name: (draw(inner), ...) for name in names}
    return create_model(f"Model{draw(st.integers(0, 3))}", **fields)


def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        inner.map(lambda t: list[t]),  # type: ignore[valid-type]
        inner.map(lambda t: tuple[t, ...]),  # type: ignore[valid-type]
        inner.map(lambda t: Optional[t]),  # noqa: UP045 - built at runtime
        inner.map(lambda t: dict[str, t]),  # type: ignore[valid-type]
        st.tuples(inner, inner).map(lambda ts: Union[ts[0], ts[1]]),  # noqa: UP007
        st.tuples(inner, WORDS).map(lambda t: Annotated[t[0], Field(description=t[1])]),
        models(inner),
    )


TYPES = st.recursive(st.one_of(SCALARS, literals(), enums()), extend, max_leaves=6)


@st.composite
def functions(draw: st.DrawFn) -> Any:
    names = draw(st.lists(NAMES, max_size=5, unique=True))
    params, annotations, lines = [], {}, []
    for name in names:
        annotation = draw(TYPES)
        nullable = draw(st.booleans())
        if nullable:
            annotation = Optional[annotation]  # noqa: UP045
        default = None if nullable and draw(st.booleans()) else inspect.Parameter.empty
        params.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        )
        annotations[name] = annotation
        lines.append(f"    {name}: {draw(WORDS)}")

    def func(**kwargs: Any) -> None:
        pass

    func.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    func.__annotations__ = annotations
    func.__doc__ = "Do something.\n\nArgs:\n" + "\n".join(lines) + "\n" if lines else "Do something."
    return func


@settings(max_examples=150, deadline=None)
@given(functions(), st.sampled_from([None, False]))
def test_generated_schemas_are_valid(func: Any, strict: bool | None) -> None:
    t = tool(strict=strict)(func)
    Draft202012Validator.check_schema(t.parameters)
    assert set(t.parameters["properties"]) == set(inspect.signature(func).parameters)
    for prop in t.parameters["properties"].values():
        assert prop.get("description")
    if t.strict:
        assert strict_violations(t.parameters) == []
    else:
        assert strict is False or t.strict_report[0].startswith("not strict: ")

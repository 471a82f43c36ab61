"""Strict mode: the rules OpenAI applies, what agentkit changes, and when it gives up."""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

import pytest
from openai import pydantic_function_tool
from openai.lib._pydantic import _ensure_strict_json_schema
from pydantic import AnyUrl, BaseModel, Field

from agentkit import tool
from agentkit._schema.strict_schema import strict_violations
from agentkit.exceptions import ToolArgumentsError


class Address(BaseModel):
    street: str = Field(description="Street.")
    zip: str = Field("00000", description="Zip.")


class Node(BaseModel):
    value: int
    children: list[Node] = []


class Cat(BaseModel):
    kind: Literal["cat"]


class Dog(BaseModel):
    kind: Literal["dog"]


class Equivalent(BaseModel):
    """Book a trip."""

    city: str = Field(description="City.")
    nights: int = Field(description="Nights.")
    tags: list[str] = Field(description="Tags.")
    mode: Literal["train", "plane"] = Field(description="Mode.")
    address: Address = Field(description="Address.")
    tree: Node = Field(description="Tree.")
    note: str | None = Field(description="Note.")


def book(
    city: str,
    nights: int,
    tags: list[str],
    mode: Literal["train", "plane"],
    address: Address,
    tree: Node,
    note: str | None,
) -> None:
    """Book a trip.

    Args:
        city: City.
        nights: Nights.
        tags: Tags.
        mode: Mode.
        address: Address.
        tree: Tree.
        note: Note.
    """


def strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: strip_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [strip_titles(v) for v in node]
    return node


def test_strict_schema_satisfies_openai_rules() -> None:
    ours = tool(book).parameters
    assert tool(book).strict is True
    assert strict_violations(ours) == []
    # The OpenAI SDK's own strict transform has nothing left to change.
    assert _ensure_strict_json_schema(copy.deepcopy(ours), path=(), root=ours) == ours


def test_strict_schema_matches_pydantic_function_tool_for_an_equivalent_model() -> None:
    ours = tool(book).to_openai()["function"]
    theirs = pydantic_function_tool(Equivalent, name="book")["function"]
    assert ours["name"] == theirs["name"]
    assert ours["description"] == theirs["description"]
    assert ours["strict"] is theirs["strict"] is True
    theirs_params = strip_titles(theirs["parameters"])
    assert ours["parameters"]["required"] == theirs_params["required"]
    for name in ("city", "nights", "tags", "mode", "note"):
        assert ours["parameters"]["properties"][name] == theirs_params["properties"][name], name
    # The SDK's output breaks only agentkit's stricter keyword rule: it leaves non-null defaults in.
    violations = strict_violations(theirs_params)
    assert violations
    assert all(v.endswith("unsupported keyword 'default'") for v in violations)


def test_defaults_become_nullable_in_strict_mode() -> None:
    @tool
    def f(a: int, b: int = 2, c: int | None = None) -> None:
        """F.

        Args:
            a: A.
            b: B.
            c: C.
        """

    props = f.parameters["properties"]
    assert props["b"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "B. (default: 2)"}
    assert props["c"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "description": "C. (default: null)",
    }
    assert f.validate({"a": 1, "b": None, "c": None}) == {"a": 1, "b": 2, "c": None}
    assert strict_violations(f.parameters) == []


def test_unsupported_keywords_move_into_the_description_and_stay_enforced() -> None:
    @tool
    def f(code: Annotated[str, Field(min_length=2, max_length=3)], site: AnyUrl, labels: set[str]) -> None:
        """F.

        Args:
            code: A code.
            site: A site.
            labels: Labels.
        """

    props = f.parameters["properties"]
    assert props["code"] == {"type": "string", "description": "A code. (maxLength: 3, minLength: 2)"}
    assert props["site"]["description"] == 'A site. (minLength: 1, format: "uri")'
    assert props["labels"]["description"] == "Labels. (uniqueItems: true)"
    assert "'code': moved maxLength, minLength into the description" in f.strict_report
    assert strict_violations(f.parameters) == []
    with pytest.raises(ToolArgumentsError, match="code: String should have at least 2 characters"):
        f.validate({"code": "A", "site": "https://x.org", "labels": []})


def test_supported_constraints_are_kept() -> None:
    @tool
    def f(
        n: Annotated[int, Field(ge=1, le=9, multiple_of=3)], items: Annotated[list[int], Field(max_length=2)]
    ) -> None:
        """F.

        Args:
            n: N.
            items: Items.
        """

    assert f.parameters["properties"]["n"] == {
        "maximum": 9,
        "minimum": 1,
        "multipleOf": 3,
        "type": "integer",
        "description": "N.",
    }
    assert f.parameters["properties"]["items"]["maxItems"] == 2
    assert f.strict_report == ()


def test_discriminated_union_becomes_any_of() -> None:
    @tool
    def f(pet: Annotated[Cat | Dog, Field(discriminator="kind")]) -> None:
        """F.

        Args:
            pet: A pet.
        """

    assert [b["$ref"] for b in f.parameters["properties"]["pet"]["anyOf"]] == ["#/$defs/Cat", "#/$defs/Dog"]
    assert "discriminator" not in f.parameters["properties"]["pet"]
    assert isinstance(f.validate({"pet": {"kind": "dog"}})["pet"], Dog)


def test_nested_defaults_are_required_in_strict_mode() -> None:
    @tool
    def f(address: Address) -> None:
        """F.

        Args:
            address: Where.
        """

    nested = f.parameters["properties"]["address"]
    assert nested["required"] == ["street", "zip"]
    assert nested["properties"]["zip"]["description"] == 'Zip. (default: "00000")'
    assert "'address': 'zip' made required (strict mode has no optional fields)" in f.strict_report
    assert f.validate({"address": {"street": "Main"}})["address"].zip == "00000"


@pytest.mark.parametrize(
    ("annotation", "reason"),
    [
        ("dict[str, int]", "'x' is an object with free-form keys"),
        ("Any", "'x' accepts any JSON value"),
        ("tuple[int, str]", "'x' uses 'prefixItems'"),
        ("dict", "'x' is an object with free-form keys"),
    ],
)
def test_not_expressible_falls_back_with_the_reason(annotation: str, reason: str) -> None:
    namespace: dict[str, Any] = {}
    exec(
        f"from typing import Any\ndef f(x: {annotation}) -> None:\n    'F.\\n\\n    Args:\\n        x: X.'",
        namespace,
    )
    t = tool(namespace["f"])
    assert t.strict is False
    assert len(t.strict_report) == 1
    assert t.strict_report[0].startswith(f"not strict: {reason}")


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "array"}, "the root is not an object"),
        ({"type": "object", "properties": {}}, "#: object without additionalProperties: false"),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "required": [],
                "additionalProperties": False,
            },
            "#: required is not the list of all properties",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A", "description": "x"}},
                "required": ["a"],
                "additionalProperties": False,
                "$defs": {"A": {"type": "string"}},
            },
            "#/properties/a: $ref with sibling keywords",
        ),
        (
            {"type": "object", "properties": {"a": {}}, "required": ["a"], "additionalProperties": False},
            "#/properties/a: empty schema (accepts anything)",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string", "maxLength": 3, "format": "uri"}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "#/properties/a: unsupported keyword 'maxLength'",
        ),
    ],
)
def test_strict_checker_finds_violations(schema: dict[str, Any], problem: str) -> None:
    assert problem in strict_violations(schema)

"""Snapshots of the schemas generated for every supported type and docstring style.

A schema is what the model sees: any change must be deliberate. To accept changes, regenerate
the snapshots with ``AGENTKIT_UPDATE_SNAPSHOTS=1 pytest tests/test_function_schema.py`` and
review the diff of ``tests/snapshots/``.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum, IntEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from agentkit import RunContext, tool

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("AGENTKIT_UPDATE_SNAPSHOTS") == "1"


class Color(Enum):
    """A primary color."""

    RED = "red"
    GREEN = "green"


class Priority(IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    """A postal address."""

    street: str = Field(description="Street and number.")
    zip: str = Field("00000", max_length=5, description="Postal code.")


class Person(BaseModel):
    name: str
    address: Address
    friends: list[Person] = []


@dataclass
class Point:
    x: float
    y: float = 0.0


class Movie(TypedDict):
    title: str
    year: int


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


def scalars(text: str, count: int, ratio: float, flag: bool, nothing: None) -> None:
    """Take every scalar type.

    Args:
        text: Some text.
        count: A count.
        ratio: A ratio.
        flag: A flag.
        nothing: Always null.
    """


def choices(
    mode: Literal["fast", "slow"],
    color: Color,
    priority: Priority = Priority.LOW,
    level: Literal[1, 2, 3] = 1,
) -> None:
    """Pick from fixed values.

    Args:
        mode: How fast.
        color: Which color.
        priority: How urgent.
        level: Which level.
    """


def optionals(
    a: int | None,
    b: int | str,
    c: int | None = None,
    d: str | None = "x",
) -> None:
    """Take optional and union values.

    Args:
        a: Required but nullable.
        b: A number or a name.
        c: Optional, None by default.
        d: Optional, "x" by default.
    """


def collections(
    items: list[str],
    numbers: tuple[int, ...],
    unique: set[str],
    seq: Sequence[float],
    pair: tuple[int, str],
    counts: dict[str, int],
) -> None:
    """Take collections.

    Args:
        items: A list.
        numbers: A variable-length tuple.
        unique: A set.
        seq: A sequence.
        pair: A fixed-length tuple.
        counts: A mapping.
    """


def structured(address: Address, person: Person, point: Point, movie: Movie, color: Color) -> None:
    """Take nested structures.

    Args:
        address: A pydantic model.
        person: A recursive pydantic model.
        point: A dataclass.
        movie: A TypedDict.
        color: An enum also used elsewhere.
    """


def pets(pet: Annotated[Cat | Dog, Field(discriminator="kind")], pets: list[Cat | Dog]) -> None:
    """Take tagged and plain unions of models.

    Args:
        pet: A discriminated union.
        pets: A plain union in a list.
    """


def temporal(when: datetime, day: date, at: time, ident: UUID, amount: Decimal) -> None:
    """Take string-encoded types.

    Args:
        when: A timestamp.
        day: A date.
        at: A time of day.
        ident: An identifier.
        amount: An exact amount.
    """


def annotated(
    ctx: RunContext[None],
    age: Annotated[int, Field(ge=0, le=150, description="Age in years.")],
    name: Annotated[str, "The name."],
    code: Annotated[str, Field(min_length=2, max_length=3, pattern="^[A-Z]+$")],
    limit: int = Field(10, gt=0, description="At most this many."),
    tags: list[str] = Field(default_factory=list, description="Tags."),  # noqa: B008
) -> None:
    """Take Annotated constraints and a context.

    Args:
        code: An upper-case code.
    """


def google_no_summary(a: int, b: str) -> None:
    """Args:
    a: The a.
    b: The b.
    """


def google_sections(a: int, b: str = "b", *, c: bool = False) -> None:
    """Do several things.

    A body paragraph
    that wraps.

    Returns:
        Nothing.
    Args:

        a (int): The a,
            on two lines.
        b (str, optional): The b.

    Keyword Args:
        c: The c.
    """


def numpy_style(a: int, b: str = "b") -> None:
    """Do it the NumPy way.

    Parameters
    ----------
    a : int
        The a.

    Other Parameters
    ----------------
    b : str
        The b.
    """


def rest_style(a: int, b: str) -> None:
    """Do it the reST way.

    :param a: The a.
    :param b: The b.
    :returns: Nothing.
    """


def epydoc_style(a: int, b: str) -> None:
    """Do it the Epydoc way.

    @param a: The a.
    @param b: The b.
    """


async def no_parameters() -> str:
    """Return the time."""
    return ""


FUNCTIONS: list[Callable[..., Any]] = [
    scalars,
    choices,
    optionals,
    collections,
    structured,
    pets,
    temporal,
    annotated,
    google_no_summary,
    google_sections,
    numpy_style,
    rest_style,
    epydoc_style,
    no_parameters,
]


def render(func: Callable[..., Any]) -> dict[str, Any]:
    default = tool(func)
    natural = tool(strict=False)(func)
    return {
        "tool": default.to_openai(),
        "strict_report": list(default.strict_report),
        "natural_parameters": natural.parameters,
    }


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_snapshot(func: Callable[..., Any]) -> None:
    actual = render(func)
    path = SNAPSHOTS / f"{func.__name__}.json"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; create it with AGENTKIT_UPDATE_SNAPSHOTS=1"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected, "schema changed; regenerate with AGENTKIT_UPDATE_SNAPSHOTS=1 and review"


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_schemas_pass_the_meta_schema(func: Callable[..., Any]) -> None:
    rendered = render(func)
    Draft202012Validator.check_schema(rendered["tool"]["function"]["parameters"])
    Draft202012Validator.check_schema(rendered["natural_parameters"])


def test_same_named_definitions_do_not_collide() -> None:
    def make(kind: str) -> type[BaseModel]:
        namespace: dict[str, Any] = {"BaseModel": BaseModel}
        exec(f"class Item(BaseModel):\n    {kind}: int\n", namespace)
        item: type[BaseModel] = namespace["Item"]
        return item

    first, second = make("a"), make("b")

    def f(x: list[first], y: list[second]) -> None:  # type: ignore[valid-type]
        """F.

        Args:
            x: X.
            y: Y.
        """

    t = tool(f)
    defs = t.parameters["$defs"]
    assert set(defs) == {"Item", "Item2"}
    assert t.parameters["properties"]["y"]["items"] == {"$ref": "#/$defs/Item2"}
    assert t.validate({"x": [{"a": 1}], "y": [{"b": 2}]})["y"][0].b == 2


def test_annotated_string_description_keeps_other_metadata() -> None:
    def f(n: Annotated[int, "A number.", Field(ge=3)]) -> None:
        """F."""

    t = tool(f)
    assert t.parameters["properties"]["n"] == {"type": "integer", "minimum": 3, "description": "A number."}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert t.validate({"n": 3}) == {"n": 3}

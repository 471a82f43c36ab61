"""The ``@tool`` decorator, the ``Tool`` value and argument validation."""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from pydantic import BaseModel, Field

from agentkit import RunContext, Tool, tool
from agentkit.exceptions import FieldError, ToolArgumentsError, ToolDefinitionError


class Unit(Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Address(BaseModel):
    street: str
    zip: str = "00000"


@dataclass
class Point:
    x: float
    y: float


@tool
def get_current_weather(location: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA.
        unit: The temperature unit to use.
    """
    return f"20 degrees {unit} in {location}"


@tool(name="send_mail", description="Send an email.", strict=False, timeout=5, idempotent=True, max_retries=2)
async def send_email(to: str, body: str) -> dict[str, str]:
    """Send it.

    Args:
        to: The recipient.
        body: The text.
    """
    return {"to": to, "body": body}


@tool
def rich(
    when: datetime,
    unit: Unit,
    address: Address,
    point: Point,
    ident: UUID,
    amount: Decimal,
    pair: tuple[int, ...],
    tags: set[str],
    count: Annotated[int, Field(ge=1)] = 1,
) -> None:
    """Use many types.

    Args:
        when: When.
        unit: Unit.
        address: Address.
        point: Point.
        ident: Id.
        amount: Amount.
        pair: Pair.
        tags: Tags.
        count: Count.
    """


def test_bare_decorator_returns_a_plain_dataclass() -> None:
    assert type(get_current_weather) is Tool
    assert dataclasses.is_dataclass(get_current_weather)
    assert get_current_weather.name == "get_current_weather"
    assert get_current_weather.description == "Get the current weather in a given location."
    assert get_current_weather.strict is True
    assert get_current_weather.is_async is False
    assert get_current_weather.takes_context is False
    assert (get_current_weather.timeout, get_current_weather.idempotent, get_current_weather.max_retries) == (
        None,
        False,
        None,
    )


def test_decorator_with_options_on_async_function() -> None:
    assert send_email.name == "send_mail"
    assert send_email.description == "Send an email."
    assert send_email.strict is False
    assert send_email.is_async is True
    assert (send_email.timeout, send_email.idempotent, send_email.max_retries) == (5, True, 2)


def test_calling_the_tool_calls_the_original_function() -> None:
    assert get_current_weather("Paris") == "20 degrees celsius in Paris"
    assert get_current_weather.function("Paris", unit="fahrenheit") == "20 degrees fahrenheit in Paris"


async def test_calling_an_async_tool() -> None:
    assert await send_email("a@b.c", "hi") == {"to": "a@b.c", "body": "hi"}


def test_to_openai_and_to_responses() -> None:
    function = {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location.",
        "parameters": get_current_weather.parameters,
        "strict": True,
    }
    assert get_current_weather.to_openai() == {"type": "function", "function": function}
    assert get_current_weather.to_responses() == {"type": "function", **function}


def test_strict_default_is_nullable_and_null_means_the_default() -> None:
    unit = get_current_weather.parameters["properties"]["unit"]
    assert unit["anyOf"][-1] == {"type": "null"}
    assert get_current_weather.parameters["required"] == ["location", "unit"]
    assert get_current_weather.validate('{"location": "Paris", "unit": null}') == {
        "location": "Paris",
        "unit": "celsius",
    }
    assert any("'unit' has a default" in line for line in get_current_weather.strict_report)


def test_non_strict_defaults_are_optional_and_shown() -> None:
    @tool(strict=False)
    def f(a: int, b: int = 3) -> None:
        """F.

        Args:
            a: A.
            b: B.
        """

    assert f.parameters["required"] == ["a"]
    assert f.parameters["properties"]["b"] == {"type": "integer", "description": "B.", "default": 3}
    assert f.validate({"a": 1}) == {"a": 1, "b": 3}
    with pytest.raises(ToolArgumentsError, match="b: expected a valid integer, got None"):
        f.validate({"a": 1, "b": None})


def test_validate_returns_annotated_python_types() -> None:
    kwargs = rich.validate(
        {
            "when": "2024-05-01T12:00:00Z",
            "unit": "celsius",
            "address": {"street": "Main St", "zip": "12345"},
            "point": {"x": 1, "y": 2.5},
            "ident": "12345678-1234-5678-1234-567812345678",
            "amount": "1.10",
            "pair": [1, 2],
            "tags": ["a", "a", "b"],
            "count": None,
        }
    )
    assert kwargs == {
        "when": datetime(2024, 5, 1, 12, tzinfo=timezone.utc),
        "unit": Unit.CELSIUS,
        "address": Address(street="Main St", zip="12345"),
        "point": Point(1.0, 2.5),
        "ident": UUID("12345678-1234-5678-1234-567812345678"),
        "amount": Decimal("1.10"),
        "pair": (1, 2),
        "tags": {"a", "b"},
        "count": 1,
    }


def test_lax_coercion_is_pinned() -> None:
    """Lax mode: a quoted integer is accepted, a non-numeric string or a fraction is not."""

    @tool
    def f(n: int) -> None:
        """F.

        Args:
            n: N.
        """

    assert f.validate('{"n": "5"}') == {"n": 5}
    with pytest.raises(ToolArgumentsError) as info:
        f.validate('{"n": "abc"}')
    assert info.value.errors == [
        FieldError("n", "expected a valid integer, unable to parse string as an integer, got 'abc'")
    ]
    with pytest.raises(ToolArgumentsError, match="n: expected a valid integer"):
        f.validate({"n": 5.5})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ToolArgumentsError) as info:
        rich.validate(
            {"when": "yesterday", "unit": "kelvin", "address": {}, "point": {"x": "a", "y": 1}, "extra": 1}
        )
    error = info.value
    assert error.tool_name == "rich"
    paths = [e.path for e in error.errors]
    assert paths == ["when", "unit", "address.street", "point.x", "ident", "amount", "pair", "tags", "extra"]
    messages = {e.path: e.message for e in error.errors}
    assert messages["unit"] == "expected 'celsius' or 'fahrenheit', got 'kelvin'"
    assert messages["address.street"] == "missing required field"
    assert messages["ident"] == "missing required field"
    assert messages["extra"].startswith("unknown field; expected one of: address, amount")
    assert "rich" in str(error)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("{not json", "expected a JSON object, got invalid JSON"),
        ("[1, 2]", "expected a JSON object, got an array"),
        ("null", "expected a JSON object, got null"),
        ('"text"', "expected a JSON object, got a string"),
    ],
)
def test_invalid_json_or_not_an_object(arguments: str, message: str) -> None:
    with pytest.raises(ToolArgumentsError) as info:
        get_current_weather.validate(arguments)
    assert len(info.value.errors) == 1
    assert info.value.errors[0].path == ""
    assert info.value.errors[0].message.startswith(message)


def test_empty_arguments_string_means_no_arguments() -> None:
    @tool
    def ping() -> str:
        """Ping."""
        return "pong"

    assert ping.validate("") == {}
    assert ping.parameters == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }


def test_context_parameter_is_excluded_from_the_schema() -> None:
    @tool
    def f(ctx: RunContext[dict[str, int]], a: int) -> int:
        """F.

        Args:
            a: A.
        """
        return ctx.deps["x"] + a

    assert f.takes_context is True
    assert list(f.parameters["properties"]) == ["a"]
    kwargs = f.validate({"a": 1})
    assert kwargs == {"a": 1}

    @tool
    def g(ctx: RunContext, a: int) -> None:  # type: ignore[type-arg]
        """G.

        Args:
            a: A.
        """

    assert g.takes_context is True


def test_context_parameter_must_come_first() -> None:
    def f(a: int, ctx: RunContext[None]) -> None:
        """F.

        Args:
            a: A.
        """

    with pytest.raises(ToolDefinitionError, match="RunContext parameter 'ctx' must come first"):
        tool(f)


def test_default_logs_strict_changes_at_debug_level(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="agentkit"):

        @tool
        def f(a: int = 1) -> None:
            """F.

            Args:
                a: A.
            """

    assert "tool 'f': 'a' has a default (1)" in caplog.text


def test_hand_built_tool_still_validates() -> None:
    def add(a: int, b: int = 2) -> int:
        return a + b

    t = Tool(
        name="add",
        description="Add.",
        parameters={},
        strict=False,
        function=add,
        is_async=False,
        takes_context=False,
    )
    assert t.validate('{"a": "1"}') == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(*args: int) -> None: ...", r"\*args is not supported"),
        ("def f(**kwargs: int) -> None: ...", r"\*\*kwargs is not supported"),
        ("def f(a: int, /) -> None: ...", "positional-only"),
        ("def f(a) -> None: ...", "has no type annotation"),
        ("def f(a: 'Missing') -> None: ...", "cannot resolve a type annotation"),
        ("class C: ...\ndef f(a: C) -> None: ...", "type C cannot be turned into a JSON schema"),
        ("def f(a: 'Callable[[], int]') -> None: ...", "cannot be turned into a JSON schema"),
    ],
)
def test_unsupported_signatures_fail_at_decoration(source: str, message: str) -> None:
    namespace: dict[str, Any] = {}
    exec(f"from collections.abc import Callable\n{source}", namespace)
    with pytest.raises(ToolDefinitionError, match=message):
        tool(namespace["f"])


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "dots.not.allowed"])
def test_invalid_names(name: str) -> None:
    def f() -> None:
        """F."""

    with pytest.raises(ToolDefinitionError, match="must match"):
        tool(name=name)(f)


def test_lambda_needs_a_name() -> None:
    with pytest.raises(ToolDefinitionError, match="pass name="):
        tool(lambda: None)
    assert tool(name="noop")(lambda: None).name == "noop"


def test_strict_true_that_cannot_be_honoured_fails() -> None:
    def f(counts: dict[str, int]) -> None:
        """F.

        Args:
            counts: Counts.
        """

    with pytest.raises(
        ToolDefinitionError, match="strict=True is not possible: 'counts' is an object with free-form"
    ):
        tool(strict=True)(f)
    fallback = tool(f)
    assert fallback.strict is False
    assert fallback.strict_report[0].startswith("not strict: 'counts' is an object with free-form keys")


@pytest.mark.parametrize(("option", "value"), [("timeout", 0), ("timeout", -1.0), ("max_retries", -1)])
def test_invalid_options(option: str, value: float) -> None:
    def f() -> None:
        """F."""

    with pytest.raises(ToolDefinitionError, match=option):
        tool(**{option: value})(f)  # type: ignore[call-overload]


def test_tool_cannot_be_decorated_twice() -> None:
    with pytest.raises(ToolDefinitionError, match="already a Tool"):
        tool(get_current_weather)  # type: ignore[arg-type]


def test_parameters_are_a_private_copy() -> None:
    def make() -> Tool[..., Any]:
        @tool
        def f(tags: list[str]) -> None:
            """F.

            Args:
                tags: Tags.
            """

        return f

    first = make()
    first.parameters["properties"]["tags"]["items"]["type"] = "integer"
    assert make().parameters["properties"]["tags"]["items"] == {"type": "string"}


def _price(item: str, quantity: int, currency: str = "EUR") -> str:
    """Price an order.

    Args:
        item: What to buy.
        quantity: How many.
        currency: The currency.
    """
    return f"{quantity} {item} in {currency}"


def test_a_partial_is_a_tool_without_its_bound_arguments() -> None:
    positional = tool(functools.partial(_price, "apples"))
    assert (positional.name, positional.description) == ("_price", "Price an order.")
    assert list(positional.parameters["properties"]) == ["quantity", "currency"]
    assert positional.parameters["properties"]["quantity"]["description"] == "How many."
    assert positional(**positional.validate({"quantity": "3", "currency": None})) == "3 apples in EUR"

    keyword = tool(name="price_in_usd")(functools.partial(_price, currency="USD"))
    assert list(keyword.parameters["properties"]) == ["item", "quantity"]
    with pytest.raises(ToolArgumentsError, match="currency: unknown field"):
        keyword.validate({"item": "pears", "quantity": 2, "currency": "EUR"})
    assert keyword(**keyword.validate({"item": "pears", "quantity": 2})) == "2 pears in USD"
    assert keyword.is_async is False


class WeatherLookup:
    """Look up the weather."""

    def __init__(self, unit: str) -> None:
        self.unit = unit

    async def __call__(self, city: str) -> str:
        """Get the current weather.

        Args:
            city: The city.
        """
        return f"20 {self.unit} in {city}"

    def forecast(self, city: str, days: int = 3) -> str:
        """Forecast the weather.

        Args:
            city: The city.
            days: How many days.
        """
        return f"{days} days of sun in {city} ({self.unit})"


async def test_a_callable_instance_is_a_tool_named_after_its_class() -> None:
    lookup = tool(WeatherLookup("C"))
    assert (lookup.name, lookup.description) == ("weather_lookup", "Get the current weather.")
    assert lookup.parameters["properties"] == {"city": {"type": "string", "description": "The city."}}
    assert lookup.is_async is True
    assert await lookup(**lookup.validate({"city": "Oslo"})) == "20 C in Oslo"
    assert tool(name="later")(functools.partial(WeatherLookup("F"), "Rome")).is_async is True


def test_a_bound_method_is_a_tool_without_self() -> None:
    forecast = tool(WeatherLookup("C").forecast)
    assert forecast.name == "forecast" and forecast.is_async is False
    assert list(forecast.parameters["properties"]) == ["city", "days"]
    assert forecast(**forecast.validate({"city": "Oslo", "days": None})) == "3 days of sun in Oslo (C)"


async def test_an_async_callable_instance_runs_in_the_agent_loop() -> None:
    from agentkit import Agent
    from agentkit.testing import ScriptedModel, reply, tool_call

    agent = Agent(tools=[tool(WeatherLookup("C"))])
    script = [reply(tool_calls=[tool_call("weather_lookup", {"city": "Oslo"})]), reply("Warm.")]
    with ScriptedModel(script).install():
        result = await agent.run("weather?")
    assert [m["content"] for m in result.messages if m["role"] == "tool"] == ["20 C in Oslo"]


def test_a_callable_without_a_usable_name_says_to_pass_one() -> None:
    with pytest.raises(ToolDefinitionError, match=r"is not callable; pass a function"):
        tool(42)  # type: ignore[call-overload]
    with pytest.raises(ToolDefinitionError, match=r"'<lambda>' must match .*pass name="):
        tool(functools.partial(lambda x: x, 1))

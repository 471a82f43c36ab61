"""Named agent definitions: saved as data, rebuilt with tools from a registry, never by import."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit import Agent, Tool, tool
from agentkit.exceptions import ConfigurationError, SessionCorruptError
from agentkit.sessions import AgentDefinition, MemorySession, SQLiteSession, ToolRegistry


@tool
def get_weather(city: str) -> str:
    """Get the weather.

    Args:
        city: The city.
    """
    return f"sunny in {city}"


@tool(idempotent=True)
def book_table(restaurant: str, people: int) -> str:
    """Book a table.

    Args:
        restaurant: Where.
        people: How many.
    """
    return "booked"


async def test_save_an_agent_and_rebuild_it_from_the_registry(tmp_path: Path) -> None:
    agent = Agent(
        "gpt-4o-mini",
        name="concierge",
        instructions="Help with plans.",
        tools=[get_weather, book_table],
        model_settings={"temperature": 0.2},
    )
    await SQLiteSession("any", tmp_path / "s.sqlite3").save_definition(AgentDefinition.from_agent(agent))

    definition = await SQLiteSession("other", tmp_path / "s.sqlite3").load_definition("concierge")
    assert definition == AgentDefinition(
        name="concierge",
        model="gpt-4o-mini",
        instructions="Help with plans.",
        model_settings={"temperature": 0.2},
        tools=("get_weather", "book_table"),
    )
    rebuilt = definition.build(ToolRegistry([book_table, get_weather]), max_turns=5)
    assert (rebuilt.name, rebuilt.model, rebuilt.instructions) == (
        "concierge",
        "gpt-4o-mini",
        "Help with plans.",
    )
    assert rebuilt.model_settings == {"temperature": 0.2}
    assert rebuilt.tools == (get_weather, book_table)
    assert rebuilt.max_turns == 5


def test_unknown_tool_names_are_refused_never_imported() -> None:
    definition = AgentDefinition(name="evil", model="gpt-4o-mini", tools=("get_weather", "os.system"))
    with pytest.raises(ConfigurationError, match=r"\['os.system'\].*registered tools: \['get_weather'\]"):
        definition.build(ToolRegistry([get_weather]))


def test_registry_takes_decorated_tools_only() -> None:
    registry = ToolRegistry()
    assert registry.add(get_weather) is get_weather
    assert "get_weather" in registry and registry.names == ["get_weather"]

    def plain(city: str) -> str:
        """Echo.

        Args:
            city: A city.
        """
        return city

    with pytest.raises(ConfigurationError, match=r"decorate it with @agentkit\.tool"):
        registry.add(plain)  # type: ignore[type-var]
    with pytest.raises(ConfigurationError, match="Two registered tools are named 'get_weather'"):
        registry.add(tool(name="get_weather")(plain))


def test_more_than_128_tools_is_a_clear_error() -> None:
    names = tuple(f"t{i}" for i in range(129))
    with pytest.raises(ConfigurationError, match="129 tools; OpenAI accepts at most 128"):
        AgentDefinition(name="big", model="gpt-4o-mini", tools=names)
    assert len(AgentDefinition(name="ok", model="gpt-4o-mini", tools=names[:128]).tools) == 128
    with pytest.raises(ConfigurationError, match="names a tool twice"):
        AgentDefinition(name="dup", model="gpt-4o-mini", tools=("a", "a"))


async def test_a_damaged_definition_is_reported(tmp_path: Path) -> None:
    session = MemorySession("any")
    session.store.definitions["broken"] = {"name": "broken", "model": 4}
    with pytest.raises(SessionCorruptError, match="'broken' is not a valid agent definition"):
        await session.load_definition("broken")


def test_tool_type_is_the_public_one() -> None:
    assert isinstance(get_weather, Tool)


async def test_the_wire_format_is_saved_with_the_definition(tmp_path: Path) -> None:
    agent = Agent("gpt-4o", name="resp", api="responses")
    store = SQLiteSession("any", tmp_path / "d.sqlite3")
    await store.save_definition(AgentDefinition.from_agent(agent))
    rebuilt = (await store.load_definition("resp")).build(ToolRegistry())
    assert rebuilt.api == "responses"

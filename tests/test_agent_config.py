"""An agent's configuration is immutable; ``clone`` derives a changed agent."""

from __future__ import annotations

import pydantic
import pytest

from agentkit import Agent, tool
from agentkit.exceptions import ConfigurationError
from agentkit.testing import ScriptedModel, reply


@tool
def ping() -> str:
    """Answer pong."""
    return "pong"


class Answer(pydantic.BaseModel):
    value: int


@pytest.mark.parametrize(
    ("name", "value"),
    [("model", "gpt-4o"), ("instructions", "x"), ("tools", []), ("max_turns", 3), ("client", None)],
)
def test_assigning_configuration_raises(name: str, value: object) -> None:
    agent = Agent()
    with pytest.raises(AttributeError, match=rf"clone\({name}="):
        setattr(agent, name, value)


def test_model_settings_are_read_only() -> None:
    agent = Agent(model_settings={"temperature": 0})
    with pytest.raises(TypeError):
        agent.model_settings["temperature"] = 1  # type: ignore[index]


async def test_clone_sends_the_changed_configuration() -> None:
    model = ScriptedModel([reply("a"), reply("b")])
    base = Agent("gpt-4o-mini", instructions="one", client=model.client())
    changed = base.clone(model="gpt-4o", instructions="two", tools=[ping], max_turns=2)
    await base.run("hi")
    await changed.run("hi")
    first, second = model.requests
    assert (first["model"], first["messages"][0]["content"]) == ("gpt-4o-mini", "one")
    assert (second["model"], second["messages"][0]["content"]) == ("gpt-4o", "two")
    assert "tools" not in first
    assert [t["function"]["name"] for t in second["tools"]] == ["ping"]
    assert (base.model, base.max_turns, changed.max_turns) == ("gpt-4o-mini", 20, 2)


def test_clone_validates_and_rejects_unknown_options() -> None:
    agent = Agent()
    with pytest.raises(TypeError, match="temprature"):
        agent.clone(temprature=0)
    with pytest.raises(ConfigurationError, match="max_turns"):
        agent.clone(max_turns=0)


async def test_clone_changes_the_output_type() -> None:
    model = ScriptedModel([reply('{"value": 4}')])
    agent = Agent(client=model.client()).clone(output_type=Answer)
    result = await agent.run("2+2")
    assert result.output == Answer(value=4)
    assert model.requests[0]["response_format"]["json_schema"]["name"] == "Answer"

"""Whatever a tool returns or raises becomes that call's result, siblings keep theirs, and a
deadline ends the wait on time (§2, §3)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from typing import Any

import pydantic
import pytest
from typing_extensions import TypedDict

from agentkit import Agent, Tool, tool
from agentkit.exceptions import RunTimeout, ToolDefinitionError
from agentkit.sessions import MemorySession
from agentkit.testing import ScriptedModel, reply, tool_call


def _results(model: ScriptedModel, index: int = 1) -> list[str]:
    return [m["content"] for m in model.requests[index]["messages"] if m["role"] == "tool"]


@tool
def fine() -> str:
    """A sibling that works."""
    return "sibling ok"


async def _run_with(bad: Tool[..., Any], session: MemorySession | None = None) -> ScriptedModel:
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call(bad.name, {}), tool_call("fine", {})]),
            reply("done"),
        ]
    )
    result = await Agent(tools=[bad, fine], client=model.client()).run("go", session=session)
    assert result.output == "done"
    return model


async def test_bytes_become_base64_with_a_media_type() -> None:
    @tool
    def image() -> bytes:
        """Return a PNG."""
        return b"\x89PNG\r\n\x1a\n\x00\x00"

    session = MemorySession("s")
    model = await _run_with(image, session)
    first, sibling = _results(model)
    assert json.loads(first) == {"media_type": "image/png", "encoding": "base64", "data": "iVBORw0KGgoAAA=="}
    assert sibling == "sibling ok"
    stored = [m for m in await session.load() if m["role"] == "tool"]
    assert len(stored) == 2


async def test_lone_surrogate_is_replaced() -> None:
    @tool
    def odd() -> str:
        """Return odd text."""
        return "x\ud800"

    session = MemorySession("s")
    model = await _run_with(odd, session)
    assert _results(model)[0] == "x\ufffd"


async def test_a_tool_that_cancels_itself_is_an_error_result() -> None:
    @tool
    async def gives_up() -> str:
        """Cancel itself."""
        raise asyncio.CancelledError

    model = await _run_with(gives_up)
    assert _results(model)[0].startswith("Error: CancelledError")


async def test_a_real_cancellation_of_the_run_propagates() -> None:
    started = asyncio.Event()

    @tool
    async def slow() -> str:
        """Take long."""
        started.set()
        await asyncio.sleep(30)
        return "late"

    model = ScriptedModel([reply(tool_calls=[tool_call("slow", {})]), reply("done")])
    task = asyncio.ensure_future(Agent(tools=[slow], client=model.client()).run("go"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class Holder:
    def __init__(self) -> None:
        self.items = {3, 1, 2}


async def test_values_without_json_have_a_stable_form() -> None:
    @tool
    def holder() -> Any:
        """Return objects."""
        return {"obj": Holder(), "tags": frozenset({"b", "a"}), "nested": [{"s": {2, 1}}]}

    model = await _run_with(holder)
    assert (
        _results(model)[0]
        == '{"obj":"<test_tool_failures.Holder object>","tags":["a","b"],"nested":[{"s":[1,2]}]}'
    )


async def test_sets_in_models_are_sorted_at_any_depth() -> None:
    class Report(pydantic.BaseModel):
        tags: set[str]

    @tool
    def report() -> Report:
        """Return a report."""
        return Report(tags={"zeta", "alpha", "mid"})

    model = await _run_with(report)
    assert _results(model)[0] == '{"tags":["alpha","mid","zeta"]}'


async def test_a_result_that_cannot_be_json_is_an_error_result() -> None:
    @tool
    def nan() -> float:
        """Return NaN."""
        return float("nan")

    model = await _run_with(nan)
    assert _results(model)[0].startswith("Error: the result of tool 'nan' could not be serialized")


async def test_a_def_tool_returning_a_coroutine_has_it_awaited() -> None:
    async def inner() -> str:
        return "awaited"

    @tool
    def wrapper() -> Any:
        """Return a coroutine."""
        return inner()

    model = await _run_with(wrapper)
    assert _results(model)[0] == "awaited"


def test_generator_functions_are_refused_at_decoration() -> None:
    async def agen() -> Any:
        yield 1

    def gen() -> Any:
        yield 1

    with pytest.raises(ToolDefinitionError, match="async generator"):
        tool(agen)
    with pytest.raises(ToolDefinitionError, match="generator function"):
        tool(gen)


class Node(pydantic.BaseModel):
    value: int
    children: list[Node] = []


def test_decoration_raises_only_tool_definition_errors() -> None:
    @tool
    def tree(root: Node) -> str:
        """Walk a tree.

        Args:
            root: The root.
        """
        return str(root.value)

    assert tree.validate({"root": {"value": 1, "children": [{"value": 2}]}})["root"].children[0].value == 2

    class Unknowable:
        pass

    with pytest.raises(ToolDefinitionError):

        @tool
        def bad(x: Unknowable) -> str:
            """Take something pydantic cannot describe.

            Args:
                x: The thing.
            """
            return ""


class Address(pydantic.BaseModel):
    city: str


@dataclasses.dataclass
class Box:
    size: int


class Opts(TypedDict):
    verbose: bool


@tool
def nested(address: Address, box: Box, opts: Opts, boxes: list[Box]) -> str:
    """Take nested values.

    Args:
        address: An address.
        box: A box.
        opts: Options.
        boxes: More boxes.
    """
    return "ran"


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"address": {"city": "P", "zip": "1"}}, "address.zip"),
        ({"box": {"size": 1, "color": "red"}}, "box.color"),
        ({"opts": {"verbose": True, "debug": True}}, "opts.debug"),
        ({"boxes": [{"size": 1}, {"size": 2, "x": 0}]}, "boxes.1.x"),
    ],
)
def test_unknown_fields_are_rejected_at_every_depth(arguments: dict[str, Any], path: str) -> None:
    base = {"address": {"city": "P"}, "box": {"size": 1}, "opts": {"verbose": False}, "boxes": []}
    with pytest.raises(Exception) as info:
        nested.validate({**base, **arguments})
    assert f"{path}: unknown field" in str(info.value)


# --- §3 deadlines ---


@tool(timeout=0.2)
async def stubborn() -> str:
    """Ignore cancellation and finish late."""
    try:
        await asyncio.sleep(2)
    except asyncio.CancelledError:
        await asyncio.sleep(2)
    return "late result"


async def test_tool_timeout_ends_the_wait_even_when_the_tool_ignores_cancellation() -> None:
    model = ScriptedModel([reply(tool_calls=[tool_call("stubborn", {})]), reply("done")])
    session = MemorySession("s")
    start = time.monotonic()
    await Agent(tools=[stubborn], client=model.client()).run("go", session=session)
    assert time.monotonic() - start < 1.5  # not the tool's 2 s (the bound is generous for busy CI)
    assert _results(model) == ["Error: tool 'stubborn' timed out after 0.2 s."]
    stored = [m["content"] for m in await session.load() if m["role"] == "tool"]
    assert stored == ["Error: tool 'stubborn' timed out after 0.2 s."]


async def test_run_timeout_ends_the_wait_for_a_stubborn_tool() -> None:
    @tool
    async def stubborn_forever() -> str:
        """Ignore cancellation."""
        try:
            await asyncio.sleep(2)
        except asyncio.CancelledError:
            await asyncio.sleep(2)
        return "late"

    model = ScriptedModel([reply(tool_calls=[tool_call("stubborn_forever", {})]), reply("done")])
    start = time.monotonic()
    with pytest.raises(RunTimeout) as info:
        await Agent(tools=[stubborn_forever], client=model.client(), run_timeout=0.3).run("go")
    assert time.monotonic() - start < 1.5
    assert "deadline" in info.value.messages[-1]["content"]


async def test_abandoned_def_threads_are_bounded() -> None:
    release = threading.Event()

    @tool(timeout=0.1)
    def blocking() -> str:
        """Block until released."""
        release.wait(5)
        return "late"

    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("blocking", {})]),
            reply(tool_calls=[tool_call("blocking", {})]),
            reply("done"),
        ]
    )
    try:
        await Agent(tools=[blocking], client=model.client(), tool_threads=1).run("go")
    finally:
        release.set()
    assert _results(model, 1) == ["Error: tool 'blocking' timed out after 0.1 s."]
    assert _results(model, 2)[1].startswith("Error: no free tool thread for 'blocking'")

"""Sessions through ``Agent.run``: history comes back, every item is journaled, runs hold the thread."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent, RunContext, tool
from agentkit.exceptions import SessionBusyError
from agentkit.sessions import MemorySession, SQLiteSession
from agentkit.testing import ScriptedModel, reply, tool_call


@tool
async def add(ctx: RunContext[None], a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first.
        b: The second.
    """
    await asyncio.sleep(0.001 * a)
    return a + b


def _script(request: Any) -> Any:
    messages = request["messages"]
    if messages[-1]["role"] == "user":
        return reply(tool_calls=[tool_call("add", {"a": 3, "b": 1}), tool_call("add", {"a": 1, "b": 1})])
    return reply(f"done after {len(messages)} messages")


async def test_a_thread_continues_across_runs_and_processes(tmp_path: Path) -> None:
    model = ScriptedModel(_script)
    agent = Agent("gpt-4o-mini", tools=[add], client=model.client())
    first = await agent.run("first", session=SQLiteSession("user-42", tmp_path / "s.sqlite3"))
    # A new session object (as in a new process) sees the whole first run.
    second = await agent.run("second", session=SQLiteSession("user-42", tmp_path / "s.sqlite3"))
    stored = await SQLiteSession("user-42", tmp_path / "s.sqlite3").load()
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "tool", "assistant"] * 2
    # Results are journaled as they complete; the loop puts them back in call order on load.
    key = repr
    assert sorted(map(key, stored[-5:])) == sorted(map(key, second.new_messages))
    assert model.requests[2]["messages"][:5] == first.messages
    assert second.output == "done after 9 messages"


async def test_the_thread_is_unlocked_when_run_returns() -> None:
    model = ScriptedModel(_script)
    agent = Agent("gpt-4o-mini", tools=[add], client=model.client())
    session = MemorySession("t")
    await agent.run("hi", session=session)
    # No yield to the event loop in between: the run must have released the thread itself.
    async with session.lock():
        pass


async def test_a_second_run_on_a_busy_thread_is_refused() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    @tool
    async def slow() -> str:
        """Wait until released."""
        started.set()
        await release.wait()
        return "ok"

    def script(request: Any) -> Any:
        if request["messages"][-1]["role"] == "user":
            return reply(tool_calls=[tool_call("slow")])
        return reply("done")

    agent = Agent("gpt-4o-mini", tools=[slow], client=ScriptedModel(script).client())
    session = MemorySession("t")
    first = asyncio.create_task(agent.run("one", session=session))
    await started.wait()
    with pytest.raises(SessionBusyError):
        await agent.run("two", session=MemorySession("t", store=session.store))
    release.set()
    assert (await first).output == "done"
    assert [m["content"] for m in await session.load() if m["role"] == "user"] == ["one"]

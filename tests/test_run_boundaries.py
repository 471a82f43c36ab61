"""What reaches a run from outside is checked (options §7, caller history §9), what leaves it is
clean (logs and stores §8), and whatever ends a run carries its transcript (I2)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import openai
import pytest

from agentkit import Agent, UsageLimits, tool
from agentkit.exceptions import ConfigurationError, RunError, SessionSchemaError, ToolDefinitionError
from agentkit.sessions import AgentDefinition, MemorySession, SQLiteSession
from agentkit.testing import ScriptedModel, api_error, reply, tool_call


@tool
def charge(amount: int) -> str:
    """Charge the card.

    Args:
        amount: Cents.
    """
    return "charged"


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"run_timeout": -1}, "run_timeout"),
        ({"run_timeout": 0}, "run_timeout"),
        ({"tool_threads": 0}, "tool_threads"),
        ({"max_tool_output_chars": -1}, "max_tool_output_chars"),
        ({"max_turns": None}, "max_turns"),
        ({"max_turns": 0}, "max_turns"),
        ({"max_turns": 2.5}, "max_turns"),
        ({"max_tool_retries": -1}, "max_tool_retries"),
        ({"max_failed_turns": True}, "max_failed_turns"),
        ({"max_argument_depth": 0}, "max_argument_depth"),
        ({"usage_limits": UsageLimits(tool_calls=-1)}, "tool_calls"),
        ({"usage_limits": UsageLimits(cost_usd=float("nan"))}, "cost_usd"),
    ],
)
def test_agent_options_are_checked_when_given(options: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named) as info:
        Agent(**options)
    assert ">=" in str(info.value) or ">" in str(info.value)


@pytest.mark.parametrize(
    ("options", "named"), [({"timeout": -1}, "timeout"), ({"max_retries": -2}, "max_retries")]
)
def test_tool_options_are_checked_when_given(options: dict[str, Any], named: str) -> None:
    with pytest.raises(ToolDefinitionError, match=named):
        tool(**options)(charge.function)


@pytest.mark.parametrize(
    ("options", "named"),
    [({"lock_timeout": -1}, "lock_timeout"), ({"busy_timeout": float("inf")}, "busy_timeout")],
)
def test_session_options_are_checked_when_given(tmp_path: Path, options: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        SQLiteSession("t", path=str(tmp_path / "s.sqlite3"), **options)


async def test_a_run_without_the_deps_its_tools_need_is_refused() -> None:
    from agentkit import RunContext

    @tool
    def add(ctx: RunContext[int], x: int) -> int:
        """Add the dependency.

        Args:
            x: A number.
        """
        return ctx.deps + x

    @tool
    def optional(ctx: RunContext[int | None]) -> str:
        """Take optional dependencies."""
        return "ok"

    model = ScriptedModel([reply("done")])
    with pytest.raises(ConfigurationError, match=r"'add'.*deps="):
        await Agent(tools=[add], client=model.client()).run("go")
    assert model.requests == []
    assert (await Agent(tools=[optional], client=model.client()).run("go")).output == "done"


def test_tools_must_be_a_list_and_the_model_a_name() -> None:
    with pytest.raises(ConfigurationError, match="list of tools"):
        Agent(tools=charge)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="model name"):
        Agent(model="")


# --- §9 caller history ---


async def test_a_dangling_call_in_messages_is_closed_before_sending() -> None:
    model = ScriptedModel([reply("ok")])
    history = [
        {"role": "user", "content": "charge 5"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "charge", "arguments": '{"amount": 5}'}}
            ],
        },
    ]
    result = await Agent(tools=[charge], client=model.client()).run("next", messages=history)
    sent = model.requests[0]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "user"]
    assert "interrupted" in sent[2]["content"]
    assert [c.tool_call_id for c in result.interrupted_tool_calls] == ["c1"]
    assert len(history) == 2  # the caller's list is not changed


async def test_an_orphan_tool_message_is_refused_with_its_index() -> None:
    history = [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "nope", "content": "x"}]
    with pytest.raises(ConfigurationError, match=r"messages\[1\]"):
        await Agent(client=ScriptedModel([reply("ok")]).client()).run("next", messages=history)


def test_a_store_without_its_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE agentkit_items (x)")
    conn.commit()
    conn.close()
    with pytest.raises(SessionSchemaError, match="no schema-version record"):
        import asyncio

        asyncio.run(SQLiteSession("t", path=str(path)).load())


def test_an_unreadable_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE agentkit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO agentkit_meta VALUES ('schema_version', 'garbage')")
    conn.commit()
    conn.close()
    with pytest.raises(SessionSchemaError, match="garbage"):
        import asyncio

        asyncio.run(SQLiteSession("t", path=str(path)).load())


# --- §8 secrets ---


async def test_tool_errors_are_logged_redacted_and_tracebacks_only_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @tool
    def connect() -> str:
        """Connect."""
        raise RuntimeError("cannot reach postgresql://admin:hunter2@db/prod with sk-abcdefghijklmnop1234")

    model = ScriptedModel([reply(tool_calls=[tool_call("connect", {})]), reply("done")])
    with caplog.at_level(logging.INFO, logger="agentkit"):
        await Agent(tools=[connect], client=model.client()).run("go")
    text = "\n".join(r.getMessage() for r in caplog.records) + "".join(
        str(r.exc_info) for r in caplog.records
    )
    assert "hunter2" not in text and "sk-abcdefghijklmnop1234" not in text
    assert "RuntimeError" in text
    assert "Traceback" not in text
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="agentkit"):
        await Agent(
            tools=[connect],
            client=ScriptedModel([reply(tool_calls=[tool_call("connect", {})]), reply("d")]).client(),
        ).run("go")
    debug = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" in debug and "hunter2" not in debug


async def test_saved_definitions_never_hold_credentials(tmp_path: Path) -> None:
    settings = {
        "temperature": 0,
        "max_tokens": 100,
        "extra_headers": {
            "Authorization": "Bearer sk-live-123456789",
            "api-key": "0123456789abcdef",
            "X-Trace": "on",
        },
        "extra_query": {"api-version": "2024-10-21", "api-key": "0123456789abcdef"},
    }
    agent = Agent(name="support", model_settings=settings)
    session = SQLiteSession("t", path=str(tmp_path / "s.sqlite3"))
    await session.save_definition(AgentDefinition.from_agent(agent))
    raw = (tmp_path / "s.sqlite3").read_bytes()
    assert b"sk-live-123456789" not in raw and b"0123456789abcdef" not in raw
    loaded = await session.load_definition("support")
    assert loaded.model_settings == {
        "temperature": 0,
        "max_tokens": 100,
        "extra_headers": {"X-Trace": "on"},
        "extra_query": {"api-version": "2024-10-21"},
    }


# --- I2 ---


async def test_sdk_errors_keep_their_class_and_carry_the_transcript() -> None:
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("charge", {"amount": 5})], usage=(10, 2)), api_error(429)]
    )
    with pytest.raises(openai.RateLimitError) as info:
        await Agent(tools=[charge], client=model.client()).run("go")
    assert [m["role"] for m in info.value.messages] == ["user", "assistant", "tool"]  # type: ignore[attr-defined]
    assert info.value.usage.input_tokens == 10  # type: ignore[attr-defined]


class BrokenSession(MemorySession):
    async def append(self, items: Any) -> None:
        if any(i.get("role") == "tool" for i in items):
            raise OSError("disk full")
        await super().append(items)


async def test_any_other_failure_becomes_a_run_error_with_the_transcript() -> None:
    model = ScriptedModel([reply(tool_calls=[tool_call("charge", {"amount": 5})]), reply("done")])
    with pytest.raises(RunError, match="OSError: disk full") as info:
        await Agent(tools=[charge], client=model.client()).run("go", session=BrokenSession("t"))
    assert info.value.messages[0] == {"role": "user", "content": "go"}
    assert isinstance(info.value.__cause__, OSError)

"""``agentkit sessions list`` and ``agentkit sessions show ID``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest
from sessions_fixtures import CHAT, RESPONSES

from agentkit.sessions import SQLiteSession, _cli


def sessions_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="agentkit sessions")
    _cli.add_arguments(parser)
    return _cli.run(parser.parse_args(argv))


@pytest.fixture
def store(tmp_path: Path) -> str:
    path = str(tmp_path / "s.sqlite3")

    async def fill() -> None:
        await SQLiteSession("chat-thread", path).append(CHAT)
        await SQLiteSession("responses-thread", path).append(RESPONSES)

    asyncio.run(fill())
    return path


def test_list(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert sessions_cli("list", "--path", store) == 0
    assert capsys.readouterr().out == "chat-thread\t5 items\nresponses-thread\t5 items\n"


def test_show_chat_completions_thread(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert sessions_cli("show", "chat-thread", "--path", store) == 0
    assert capsys.readouterr().out == (
        "# session chat-thread (5 items)\n"
        "user: Weather in Paris and Tokyo? Ünïcödé ☀\n"
        '  -> weather(city="Paris")  [call_1]\n'
        '  -> weather(city="Tokyo")  [call_2]\n'
        "  <- weather [call_2]: rain\n"
        "  <- weather [call_1]: sun\n"
        "assistant: Sun in Paris, rain in Tokyo.\n"
    )


def test_show_responses_thread(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert sessions_cli("show", "responses-thread", "--path", store) == 0
    assert capsys.readouterr().out == (
        "# session responses-thread (5 items)\n"
        "user: hi\n"
        "(reasoning)\n"
        "  -> weather()  [c1]\n"
        "  <- weather [c1]: sun\n"
        "assistant: Sun.\n"
    )


def test_unknown_thread_and_missing_file_are_errors(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sessions_cli("show", "nobody", "--path", store) == 1
    assert "'nobody' is empty or does not exist" in capsys.readouterr().err
    missing = tmp_path / "missing.sqlite3"
    assert sessions_cli("list", "--path", str(missing)) == 1
    assert "no session store" in capsys.readouterr().err
    assert not missing.exists()  # listing never creates a store


def test_the_agentkit_command_dispatches_here(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    from agentkit._cli import main

    assert main(["sessions", "list", "--path", store]) == 0
    assert "chat-thread" in capsys.readouterr().out


def test_a_foreign_database_is_refused_and_left_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from agentkit._cli import main

    foreign = tmp_path / "app.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    assert main(["sessions", "list", "--path", str(foreign)]) == 1
    assert "not an agentkit session store" in capsys.readouterr().err
    with sqlite3.connect(foreign) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"users"}
    assert main(["sessions", "list", "--path", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err

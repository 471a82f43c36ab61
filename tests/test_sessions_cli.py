"""``agentkit sessions list`` and ``agentkit sessions show ID``."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sessions_fixtures import CHAT, POSTGRES_DSN, REDIS_URL, RESPONSES, require_server

from agentkit._cli import main
from agentkit.sessions import PostgresSession, RedisSession, SQLiteSession, _cli


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
    assert sessions_cli("show", "nobody", "--path", store) == 2
    assert "'nobody' is empty or does not exist" in capsys.readouterr().err
    missing = tmp_path / "missing.sqlite3"
    assert sessions_cli("list", "--path", str(missing)) == 2
    assert "no session store" in capsys.readouterr().err
    assert not missing.exists()  # listing never creates a store


def test_the_agentkit_command_dispatches_here(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "list", "--path", store]) == 0
    assert "chat-thread" in capsys.readouterr().out


def test_a_foreign_database_is_refused_and_left_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    foreign = tmp_path / "app.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    assert main(["sessions", "list", "--path", str(foreign)]) == 2
    assert "not an agentkit session store" in capsys.readouterr().err
    with sqlite3.connect(foreign) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"users"}
    assert main(["sessions", "list", "--path", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


# --- --store URL ---


def test_store_url_names_a_sqlite_file(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # sqlite:////absolute (a fourth slash starts an absolute path), sqlite:///relative, a bare path.
    assert main(["sessions", "list", "--store", f"sqlite:///{store}"]) == 0
    assert capsys.readouterr().out.startswith("chat-thread\t5 items\n")
    monkeypatch.chdir(Path(store).parent)
    assert main(["sessions", "show", "chat-thread", "--store", f"sqlite:///{Path(store).name}"]) == 0
    assert capsys.readouterr().out.startswith("# session chat-thread (5 items)")
    assert main(["sessions", "list", "--store", Path(store).name]) == 0
    assert "responses-thread" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://localhost/db", "unknown store 'mysql'"),
        ("sqlite://", "write a SQLite store as sqlite:///path"),
    ],
)
def test_a_bad_store_url_is_a_usage_error(url: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "list", "--store", url]) == 2
    assert message in capsys.readouterr().err


def test_store_and_path_are_exclusive(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sessions", "list", "--store", f"sqlite:///{store}", "--path", store])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_an_unreachable_server_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 1 on the loopback refuses at once: a clear message and exit 2, not a traceback.
    assert main(["sessions", "list", "--store", "redis://127.0.0.1:1/0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("agentkit sessions: error: SessionError:") and "Traceback" not in err


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_store_url_opens_a_server_store(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    require_server(kind)
    thread = f"cli-{uuid.uuid4().hex}"
    url = POSTGRES_DSN if kind == "postgres" else REDIS_URL

    def session() -> PostgresSession | RedisSession:
        if kind == "postgres":
            return PostgresSession(thread, POSTGRES_DSN)
        return RedisSession(thread, REDIS_URL)

    async def write() -> None:
        s = session()
        await s.append(CHAT)
        await s.aclose()

    async def clear() -> None:
        s = session()
        await s.clear()
        await s.aclose()

    asyncio.run(write())
    try:
        assert main(["sessions", "list", "--store", url]) == 0
        assert thread in capsys.readouterr().out.splitlines()
        assert main(["sessions", "show", thread, "--store", url]) == 0
        assert capsys.readouterr().out.startswith(f"# session {thread} (5 items)\nuser: Weather in Paris")
    finally:
        asyncio.run(clear())


def test_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    # Far more than a pipe buffer (64 KiB) of output, so the writer sees the reader go away.
    path = tmp_path / "many.sqlite3"

    async def fill() -> None:
        for i in range(120):  # about 145 KB of ids
            await SQLiteSession(f"thread-{i:04d}-" + "x" * 1200, str(path)).append(CHAT[:1])

    asyncio.run(fill())
    done = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m agentkit._cli sessions list --path "{path}" | head -1'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.startswith("thread-0000-")
    assert done.stdout.count("\n") == 1
    assert done.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored" at exit

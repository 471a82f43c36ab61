"""``agentkit schema``: print tool JSON and check it against snapshots."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit._cli import main

MODULE = '''
from typing import Literal

from agentkit import tool


@tool
def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Get the weather.

    Args:
        city: The city.
        unit: The unit.
    """
    return city


@tool(strict=False)
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


def plain(text: str) -> str:
    """Echo.

    Args:
        text: The text.
    """
    return text
'''


@pytest.fixture
def tools_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "my_tools.py"
    path.write_text(textwrap.dedent(MODULE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield path
    sys.modules.pop("my_tools", None)


def test_prints_one_tool_from_a_file(tools_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", f"{tools_file}:get_weather"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["type"] == "function"
    assert printed["function"]["name"] == "get_weather"
    assert printed["function"]["strict"] is True


def test_prints_one_tool_from_a_module(tools_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "my_tools:add", "--api", "responses"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["name"] == "add"
    assert printed["strict"] is False


def test_a_plain_function_is_turned_into_a_tool(tools_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "my_tools:plain"]) == 0
    assert json.loads(capsys.readouterr().out)["function"]["name"] == "plain"


def test_all_prints_every_tool(tools_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", str(tools_file), "--all"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [t["function"]["name"] for t in printed] == ["get_weather", "add"]


def test_check_passes_when_unchanged(
    tools_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "my_tools", "--all"]) == 0
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["schema", "my_tools", "--all", "--check", str(snapshot)]) == 0
    assert "schema matches" in capsys.readouterr().out


def test_check_fails_with_a_readable_diff(
    tools_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", f"{tools_file}:get_weather"]) == 0
    saved = json.loads(capsys.readouterr().out)
    saved["function"]["parameters"]["properties"]["city"]["description"] = "The old city text."
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(saved), encoding="utf-8")

    assert main(["schema", f"{tools_file}:get_weather", "--check", str(snapshot)]) == 1
    out = capsys.readouterr().out
    assert "schema changed" in out
    assert '-          "description": "The old city text.",' in out
    assert '+          "description": "The city.",' in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["schema", "my_tools"], "name the function"),
        (["schema", "my_tools:missing"], "has no attribute 'missing'"),
        (["schema", "no_such_module_xyz:f"], "No module named"),
        (["schema", "missing/file.py:f"], "no such file"),
        (["schema", "my_tools:add", "--check", "missing.json"], "cannot read snapshot"),
    ],
)
def test_errors_exit_2(
    tools_file: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_module_that_fails_to_import_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n", encoding="utf-8")
    assert main(["schema", str(broken), "--all"]) == 2
    assert "importing" in capsys.readouterr().err
    raising = tmp_path / "raising.py"
    raising.write_text("raise RuntimeError('no config')\n", encoding="utf-8")
    assert main(["schema", f"{raising}:f"]) == 2
    assert "RuntimeError: no config" in capsys.readouterr().err


def test_check_with_all_names_the_changed_tools(
    tools_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", str(tools_file), "--all"]) == 0
    saved = json.loads(capsys.readouterr().out)
    saved[0]["function"]["description"] = "Something else."
    renamed = dict(saved[-1], function=dict(saved[-1]["function"], name="gone_tool"))
    snapshot = tmp_path / "all.json"
    snapshot.write_text(json.dumps([*saved[:-1], renamed]), encoding="utf-8")
    assert main(["schema", str(tools_file), "--all", "--check", str(snapshot)]) == 1
    out = capsys.readouterr().out
    first, last = saved[0]["function"]["name"], saved[-1]["function"]["name"]
    assert f"changed: {first}" in out
    assert f"added: {last}" in out and "removed: gone_tool" in out


def test_write_creates_a_snapshot_that_check_accepts(
    tools_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = tmp_path / "snapshots" / "tools.json"
    assert main(["schema", str(tools_file), "--all", "--write", str(snapshot)]) == 0
    assert f"wrote 2 tool schema(s) to {snapshot}" in capsys.readouterr().out
    assert [t["function"]["name"] for t in json.loads(snapshot.read_text(encoding="utf-8"))] == [
        "get_weather",
        "add",
    ]
    assert main(["schema", str(tools_file), "--all", "--check", str(snapshot)]) == 0
    assert "schema matches" in capsys.readouterr().out


def test_write_to_an_unwritable_place_is_an_input_error(
    tools_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    assert main(["schema", str(tools_file), "--all", "--write", str(blocker / "tools.json")]) == 2
    assert "cannot write snapshot" in capsys.readouterr().err


def test_write_and_check_are_exclusive(tools_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["schema", str(tools_file), "--all", "--write", "a.json", "--check", "b.json"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err

"""``tools/files.py``: reading inside the root works, every way out of it is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentkit import Agent
from agentkit.testing import ScriptedModel, reply, tool_call
from tools.files import make_file_tools


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "outside.txt").write_text("top secret")
    docs = tmp_path / "docs"
    (docs / "guide").mkdir(parents=True)
    (docs / "index.md").write_text("# Welcome\n")
    (docs / "guide" / "start.md").write_text("Start here.")
    (docs / "long.txt").write_text("x" * 25)
    return docs


def test_read_and_list_inside_the_root(root: Path) -> None:
    read_file, list_files = make_file_tools(root)
    assert read_file("index.md") == "# Welcome\n"
    assert read_file("guide/../guide/start.md") == "Start here."
    assert list_files().splitlines() == ["guide/", "index.md", "long.txt"]
    assert list_files(".", "*.md", recursive=True).splitlines() == ["guide/start.md", "index.md"]
    assert list_files("guide") == "start.md"


def test_long_files_are_paged(root: Path) -> None:
    read_file, _ = make_file_tools(root, max_chars=10)
    first = read_file("long.txt")
    assert first.startswith("x" * 10) and "offset=10" in first
    assert read_file("long.txt", offset=20) == "x" * 5


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "guide/../../outside.txt"])
def test_paths_outside_the_root_are_refused(root: Path, path: str) -> None:
    read_file, list_files = make_file_tools(root)
    from agentkit import ToolRetry

    with pytest.raises(ToolRetry, match="outside the readable directory"):
        read_file(path)
    with pytest.raises(ToolRetry, match="outside the readable directory"):
        list_files(path)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_link_out_of_the_root_is_refused_and_not_listed(root: Path) -> None:
    (root / "escape.txt").symlink_to(root.parent / "outside.txt")
    read_file, list_files = make_file_tools(root)
    from agentkit import ToolRetry

    with pytest.raises(ToolRetry):
        read_file("escape.txt")
    assert "escape.txt" not in list_files()


def test_an_agent_gets_the_refusal_as_a_message(root: Path) -> None:
    agent = Agent(tools=make_file_tools(root))
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("read_file", {"path": "../outside.txt", "offset": 0})]),
            reply(tool_calls=[tool_call("read_file", {"path": "index.md", "offset": 0})]),
            reply("The docs say welcome."),
        ]
    )
    with model.install():
        result = agent.run_sync("What do the docs say?")
    assert result.output == "The docs say welcome."
    refused, read = (r["messages"][-1]["content"] for r in model.requests[1:])
    assert "outside the readable directory" in refused and "top secret" not in refused
    assert read == "# Welcome\n"

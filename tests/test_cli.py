"""The ``agentkit`` command: version, help text and the exit-code convention of every subcommand."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

import pytest

from agentkit._cli import main

# Every parser a user can ask for help: the command, each subcommand, each nested action.
HELP_PAGES = [
    [],
    ["schema"],
    ["replay"],
    ["sessions"],
    ["sessions", "list"],
    ["sessions", "show"],
    ["models"],
    ["finetune"],
    *(
        ["finetune", action]
        for action in ("export", "validate", "estimate", "split", "start", "status", "cancel")
    ),
    ["eval"],
    ["serve"],
    ["keys"],
    ["mcp"],
    ["mcp", "serve"],
]

# What exit status 1 means on each help page that has one; the others never exit 1.
CHECK_FAILED = {
    "": "1  a check failed:\n       schema: --check found a changed schema",
    "schema": "1  --check found a changed schema",
    "finetune": "1  validate, start: the training file has errors; status: the job failed",
    "finetune validate": "1  the file (or the validation file) has errors",
    "finetune start": "1  the training file has errors",
    "finetune status": "1  the job failed",
    "eval": "1  a case ended in an error",
}


def help_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_version_comes_from_the_installed_distribution() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agentkit._cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"agentkit {metadata.version('agentkit-openai')}\n"


@pytest.mark.parametrize("argv", HELP_PAGES, ids=lambda argv: " ".join(["agentkit", *argv]))
def test_help_is_plain_text_with_the_exit_codes(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(argv, capsys)
    # No reStructuredText markup: ``literals``, :roles:, or "::" literal-block markers.
    assert "``" not in text
    assert not re.search(r":[a-z]+:`", text)
    assert not re.search(r"::\s*$", text, re.MULTILINE)
    exit_status = text.split("exit status:\n  0  success\n")[1]
    meaning = CHECK_FAILED.get(" ".join(argv))
    if meaning is None:
        assert not exit_status.startswith("  1")
    else:
        assert exit_status.startswith(f"  {meaning}")
    assert "  2  usage or input error" in exit_status


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["nope"], ["schema"], ["sessions"], ["replay", "a.yaml", "--bogus"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2, argv
    capsys.readouterr()


def test_a_subcommand_module_is_imported_only_when_used() -> None:
    code = (
        "import sys\nfrom agentkit._cli import build_parser\nbuild_parser('schema')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('agentkit.sessions', 'agentkit.testing'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"

"""``agentkit eval``: exit codes, one-line errors, the errors of failed cases, a table without rich."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from agentkit._cli import main
from agentkit.testing import ScriptedModel, ScriptedRequest, api_error, reply

AGENT_MODULE = """
from agentkit import Agent

agent = Agent("gpt-4o-mini", instructions="Answer in one word.")
not_an_agent = 3
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    """``(cases.jsonl, module:agent)``: two cases, "hi" and "bye"."""
    (tmp_path / "eval_agent.py").write_text(AGENT_MODULE)
    cases = tmp_path / "cases.jsonl"
    lines = [{"input": word, "expected_output": word, "id": word} for word in ("hi", "bye")]
    cases.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(cases), f"{tmp_path / 'eval_agent.py'}:agent"


def _echo(request: ScriptedRequest) -> Any:
    return reply(request["messages"][-1]["content"])


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("agentkit eval: error: ")
    return captured.err


def test_every_case_ran(files: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    cases, agent = files
    with ScriptedModel(_echo).install():
        assert main(["eval", cases, "--agent", agent]) == 0
    out = capsys.readouterr().out
    assert "final answer" in out and "100.0%" in out and "errors (" not in out


def test_no_api_key_is_one_usage_error(
    files: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cases, agent = files
    assert main(["eval", cases, "--agent", agent]) == 2
    assert "variant 'gpt-4o-mini' cannot run: ConfigurationError" in _one_line_error(capsys)


def test_an_unknown_model_is_one_usage_error(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    cases, agent = files

    def unknown(request: ScriptedRequest) -> Any:
        if request["model"] == "nope":
            return api_error(404, message="The model `nope` does not exist")
        return _echo(request)

    with ScriptedModel(unknown).install():
        assert main(["eval", cases, "--agent", agent, "--model", "gpt-4o-mini", "--model", "nope"]) == 2
    assert "variant 'nope' cannot run: NotFoundError" in _one_line_error(capsys)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--concurrency", "0"], "concurrency must be at least 1"),
        (["--poll-interval", "-1"], "poll_interval must be a number of seconds >= 0"),
    ],
)
def test_bad_numbers_are_one_usage_error(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    cases, agent = files
    assert main(["eval", cases, "--agent", agent, *extra]) == 2
    assert message in _one_line_error(capsys)


def test_not_an_agent_is_one_usage_error(files: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    cases, agent = files
    assert main(["eval", cases, "--agent", agent.replace(":agent", ":not_an_agent")]) == 2
    assert "is not an agent: a 'int' has no run()" in _one_line_error(capsys)


def test_failed_cases_are_listed_and_exit_1(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    def flaky(request: ScriptedRequest) -> Any:
        if request["messages"][-1]["content"] == "bye":
            return api_error(400, message="This request is too long")
        return _echo(request)

    cases, agent = files
    with ScriptedModel(flaky).install():
        assert main(["eval", cases, "--agent", agent]) == 1
    out = capsys.readouterr().out
    assert "errors (1):\n  gpt-4o-mini / bye: BadRequestError: " in out and "too long" in out


def test_runs_without_rich(
    files: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "rich.console", None)  # as if rich were not installed
    monkeypatch.setitem(sys.modules, "rich.table", None)
    cases, agent = files
    with ScriptedModel(_echo).install():
        assert main(["eval", cases, "--agent", agent]) == 0
    out = capsys.readouterr().out
    assert out.startswith("evaluation\nmetric") and "│" not in out and "100.0%" in out


def test_help_says_what_exit_1_means(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    epilog = capsys.readouterr().out.split("exit status:")[1]
    assert "1  a case ended in an error" in epilog and "schema" not in epilog

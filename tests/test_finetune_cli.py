"""``agentkit finetune ...`` and ``agentkit eval ...`` through ``agentkit._cli.main``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from finetune_data import clean_example, defects, write_lines
from openai_fake_api import FakeOpenAI, serve

from agentkit import Agent
from agentkit._cli import main
from agentkit.sessions import SQLiteSession
from agentkit.testing import ScriptedModel, ScriptedRequest, reply, tool_call

CLEAN = [clean_example(f"c{i}") for i in range(20)]

AGENT_MODULE = '''
from agentkit import Agent, tool


@tool
def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city's name.
    """
    return f"sunny in {city}"


agent = Agent("gpt-4o-mini", instructions="You report the weather.", tools=[get_weather])
'''


def test_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_lines(tmp_path / "good.jsonl", CLEAN)
    assert main(["finetune", "validate", str(good)]) == 0
    bad = write_lines(tmp_path / "bad.jsonl", [*CLEAN, defects()["arguments_schema"]])
    assert main(["finetune", "validate", str(bad)]) == 1
    assert f"{bad}:21: error arguments_schema" in capsys.readouterr().out
    assert main(["finetune", "validate", str(bad), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["counts"] == {"arguments_schema": 1}
    assert main(["finetune", "validate", str(tmp_path / "missing.jsonl")]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "{path}", "--max-tokens", "-5"], "max_tokens must be a positive integer, not -5."),
        (["estimate", "{path}", "--max-tokens", "0"], "max_tokens must be a positive integer, not 0."),
        (["estimate", "{path}", "--epochs", "0"], "epochs must be a positive integer, not 0."),
        (["estimate", "{path}", "--model", "gpt-5"], "'gpt-5' cannot be fine-tuned"),
        (["validate", "{path}", "--model", "no-such-model"], "Unknown model 'no-such-model'"),
        (["start", "{path}", "--model", "gpt-5"], "'gpt-5' cannot be fine-tuned"),
        (["start", "{path}", "--epochs", "many"], "--epochs must be 'auto' or a number, not 'many'"),
        (["start", "{path}", "--batch-size", "-2"], "batch_size must be 'auto' or a positive integer"),
        (["split", "{path}", "--train", "a", "--validation", "b", "--fraction", "2"], "fraction"),
    ],
)
def test_bad_numbers_and_models_are_one_line_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    path = str(write_lines(tmp_path / "all.jsonl", CLEAN))
    assert main(["finetune", *(a.format(path=path) for a in args)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"agentkit finetune {args[0]}: error: ")
    assert message in captured.err and captured.err.count("\n") == 1


def test_a_model_that_cannot_be_fine_tuned_fails_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "all.jsonl", CLEAN)
    assert main(["finetune", "validate", str(path), "--model", "gpt-5"]) == 1
    out = capsys.readouterr().out
    assert "1 error(s), model gpt-5" in out and "error model_not_fine_tunable" in out


def test_each_action_documents_its_own_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    epilogs = {}
    for action in ("validate", "estimate", "start", "status"):
        with pytest.raises(SystemExit):
            main(["finetune", action, "--help"])
        epilogs[action] = capsys.readouterr().out.split("exit status:")[1]
    assert "1  the file (or the validation file) has errors" in epilogs["validate"]
    assert "1  the training file has errors" in epilogs["start"]
    assert "1  the job failed" in epilogs["status"]
    assert "  1  " not in epilogs["estimate"]
    assert all("schema" not in text for text in epilogs.values())


def test_estimate_and_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lines(tmp_path / "all.jsonl", CLEAN)
    assert main(["finetune", "estimate", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["epochs"] == 5 and data["examples"] == 20 and data["cost_usd"] > 0
    train, valid = tmp_path / "train.jsonl", tmp_path / "valid.jsonl"
    args = ["finetune", "split", str(path), "--train", str(train), "--validation", str(valid), "--seed", "3"]
    assert main(args) == 0
    assert len(train.read_text().splitlines()) == 16 and len(valid.read_text().splitlines()) == 4
    assert main([*args[:-2], "--fraction", "0.5"]) == 2


def test_export_from_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "weather_agent.py").write_text(AGENT_MODULE)
    db = tmp_path / "threads.db"
    agent = Agent("gpt-4o-mini")

    async def record() -> None:
        with ScriptedModel([reply("Hi."), reply("Hello.")]).install():
            for name in ("a", "b"):
                await agent.run(f"hello {name}", session=SQLiteSession(name, db))

    import asyncio

    asyncio.run(record())
    out = tmp_path / "out.jsonl"
    target = f"{tmp_path / 'weather_agent.py'}:agent"
    code = main(["finetune", "export", "--store", f"sqlite:///{db}", "--agent", target, "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and rows[0]["messages"][0]["content"] == "You report the weather."
    assert rows[0]["tools"][0]["function"]["name"] == "get_weather"
    assert main(["finetune", "export", "--store", "mysql://x", "-o", str(out)]) == 2


def test_jobs_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    state = FakeOpenAI(answer=lambda body: {})
    with serve(state) as base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-key-for-loopback")
        bad = write_lines(tmp_path / "bad.jsonl", CLEAN[:3])
        assert main(["finetune", "start", str(bad), "--model", "gpt-4o-mini"]) == 1  # too few examples
        assert state.jobs == {}
        good = write_lines(tmp_path / "good.jsonl", CLEAN)
        assert main(["finetune", "start", str(good), "--model", "gpt-4o-mini", "--epochs", "2"]) == 0
        job_id = capsys.readouterr().out.split()[0]
        png = tmp_path / "loss.png"
        args = ["finetune", "status", job_id, "--watch", "--interval", "0", "--loss-png", str(png)]
        assert main(args) == 0
        out = capsys.readouterr().out
        assert "succeeded" in out and "fine-tuned model: ft:gpt-4o-mini" in out and png.is_file()
        assert main(["finetune", "cancel", job_id]) == 0
        assert "cancelled" in capsys.readouterr().out
        # On a terminal, --watch draws a progress bar over the training steps.
        assert main(["finetune", "start", str(good), "--model", "gpt-4o-mini"]) == 0
        second = capsys.readouterr().out.split()[0]
        monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
        assert main(["finetune", "status", second, "--watch", "--interval", "0"]) == 0
        assert "fine-tuned model" in capsys.readouterr().out


def test_eval_cli_compares_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "weather_agent.py").write_text(AGENT_MODULE)
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        json.dumps(
            {
                "input": "Weather in Paris?",
                "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
                "expected_output": "sunny",
                "match": "contains",
            }
        )
        + "\n"
    )

    def answer(request: ScriptedRequest) -> Any:
        if request["messages"][-1]["role"] == "tool":
            return reply("It is sunny.")
        city = "Paris" if request["model"] == "model-a" else "Rome"
        return reply(tool_calls=[tool_call("get_weather", {"city": city})])

    target = f"{tmp_path / 'weather_agent.py'}:agent"
    png = tmp_path / "chart.png"
    with ScriptedModel(answer).install():
        code = main(
            [
                "eval",
                str(cases),
                "--agent",
                target,
                "--model",
                "model-a",
                "--model",
                "model-b",
                "--json",
                "--png",
                str(png),
            ]
        )
    assert code == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert (
        metrics["model-a"]["argument_exact_match"] == 1.0
        and metrics["model-b"]["argument_exact_match"] == 0.0
    )
    assert png.is_file()
    assert main(["eval", str(tmp_path / "missing.jsonl"), "--agent", target]) == 2

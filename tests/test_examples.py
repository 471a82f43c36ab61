"""Every example runs offline, and every test file in the testing docs passes as written.

The examples run as subprocesses without ``OPENAI_API_KEY``, so each replays its recording. The
docs' test files are run the way a newcomer would: once with ``--agentkit-record=once`` (a
scripted model stands in for the API, since tests have no key) and once in replay mode.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
README = ROOT / "README.md"
TESTING_DOC = ROOT / "docs" / "testing.md"


class _Section:
    """The README's "Testing in five minutes" and docs/testing.md, run block by block."""

    def read_text(self, encoding: str = "utf-8") -> str:
        text = README.read_text(encoding=encoding)
        start = text.index("## Testing in five minutes")
        end = text.index("\n## ", start + 1)
        return text[start:end] + TESTING_DOC.read_text(encoding=encoding)


DOC = _Section()

# The last words each example prints: the model's final answer.
FINAL_ANSWERS = {
    "weather.py": (
        "The weather in Paris, France is 22°C and sunny, and in Tokyo, Japan it is also 22°C and sunny."
    ),
    "support_bot.py": "assistant: That was the ceramic teapot from order A-1042.",
    "structured_output.py": "category: billing, urgency 4/5, orders A-1042, A-1043",
    "send_email.py": "Done: I e-mailed ada@example.com that the release moved to Friday.",
    "streaming.py": "final: Tokyo has far more people: about 14.1 million against 2.1 million in Paris.",
    "approval.py": "Sent: I told ada@example.com it is 22°C and sunny in Paris.",
    "mcp_server.py": "The release moves to Friday, and Ada writes the announcement.",
    "weather_email.py": "I sent Ada the weather in Oslo: -2.5 °C with light snow.",
}
RECORDERS = {
    "record_weather_cassette.py": "weather.yaml",
    "record_support_bot_cassette.py": "support_bot.yaml",
}


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=offline_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_every_example_is_covered() -> None:
    names = {p.name for p in EXAMPLES.glob("*.py")}
    assert names == set(FINAL_ANSWERS) | set(RECORDERS)
    assert not names & {"tools.py", "agentkit.py", "openai.py"}, "it would shadow a real package"


@pytest.mark.parametrize("name", sorted(FINAL_ANSWERS))
def test_example_runs_offline(name: str) -> None:
    done = run(EXAMPLES / name)
    assert done.returncode == 0, done.stderr
    first, *_ = done.stdout.splitlines()
    assert first.startswith("No OPENAI_API_KEY: replaying"), first
    assert f"To run it live: OPENAI_API_KEY=sk-... python examples/{name}" in first
    assert FINAL_ANSWERS[name] in done.stdout


def test_examples_print_no_asyncio_errors() -> None:
    for name in FINAL_ANSWERS:
        assert "Task was destroyed" not in run(EXAMPLES / name).stderr


@pytest.mark.parametrize("recorder", sorted(RECORDERS))
def test_cassettes_are_what_the_recorders_write(recorder: str, tmp_path: Path) -> None:
    out = tmp_path / "cassette.yaml"
    done = run(EXAMPLES / recorder, "--out", out)
    assert done.returncode == 0, done.stderr
    shipped = (EXAMPLES / "cassettes" / RECORDERS[recorder]).read_text(encoding="utf-8")
    assert shipped.startswith("# Cassette written by agentkit.testing")
    assert "produced by agentkit.testing.ScriptedModel: scripted replies, no live API" in shipped

    # Byte for byte: re-running the recorder leaves `git status` clean (no SDK version in the
    # headers, body fields in a fixed order).
    assert out.read_text(encoding="utf-8") == shipped


# --- the README's "Testing in five minutes" and docs/testing.md ---

STAND_IN = '''
import pytest
from agentkit.testing import ScriptedModel, reply, tool_call

SCRIPTS = {
    "test_weather": [
        reply(tool_calls=[tool_call("get_weather", {"city": "Paris"})], usage=(71, 15)),
        reply("It is 22 degrees and sunny in Paris.", usage=(98, 11)),
    ],
    "test_same_tool_calls_as_recorded": [
        reply(tool_calls=[tool_call("send_email", {"to": "bob@example.com", "subject": "Build green"})]),
        reply("I told bob@example.com that the build is green."),
    ],
}


@pytest.fixture(autouse=True)
def api_stand_in(request):
    """Answer from a script where a newcomer's run would reach the API with their key."""
    script = SCRIPTS.get(request.node.name)
    if script is None:
        yield
        return
    with ScriptedModel(script).install():
        yield
'''


def doc_files() -> dict[str, str]:
    """The Python blocks of the doc that start with a ``# path`` comment, by path."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return {b.split("\n", 1)[0][2:]: b for b in blocks if b.startswith("# tests/")}


def pytest_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run("-m", "pytest", "-q", "-p", "no:cacheprovider", *args, cwd=project)


def test_doc_scripted_model_tests_pass(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_weather_scripted.py").write_text(doc_files()["tests/test_weather_scripted.py"])
    done = pytest_in(tmp_path, "tests/test_weather_scripted.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_doc_cassette_tests_record_then_replay(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    for path in ("tests/test_weather.py", "tests/test_notify.py"):
        (tmp_path / path).write_text(doc_files()[path])

    (tmp_path / "conftest.py").write_text(STAND_IN)
    recorded = pytest_in(tmp_path, "tests", "--agentkit-record=once")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    (tmp_path / "conftest.py").unlink()
    cassette = tmp_path / "tests/cassettes/test_weather/test_weather.yaml"
    assert cassette.is_file() and (tmp_path / "tests/cassettes/notify.yaml").is_file()

    replayed = pytest_in(tmp_path, "tests")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "3 passed" in replayed.stdout

    transcript = run(
        "-m", "agentkit._cli", "replay", "tests/cassettes/test_weather/test_weather.yaml", cwd=tmp_path
    )
    assert transcript.returncode == 0, transcript.stderr
    shown = re.search(
        r"```text\n\$ agentkit replay \S+\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL
    )
    assert shown is not None
    assert transcript.stdout == shown.group(1)

    # The drift diff shown in the doc is the one a changed prompt produces.
    test_file = tmp_path / "tests/test_weather.py"
    test_file.write_text(
        test_file.read_text().replace("Answer in one sentence.", "Answer in one short sentence.")
    )
    drifted = pytest_in(tmp_path, "tests/test_weather.py")
    assert drifted.returncode == 1
    assert "messages[0] is the first messages item that differs:" in drifted.stdout
    expected = '\'content\': recorded "Answer in one sentence.", sent "Answer in one short sentence."'
    assert expected in drifted.stdout
    # The failure reads in a few lines: the test's own line, then the report.
    failure = drifted.stdout.split(" FAILURES ", 1)[1].split("short test summary", 1)[0]
    assert len(failure.splitlines()) < 15, failure
    assert "site-packages" not in failure and "agentkit/" not in failure


def test_doc_context_manager_snippet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentkit.testing import ScriptedModel, reply

    block = re.search(
        r"```python\n(from agentkit.testing import cassette\n.*?)```", DOC.read_text(), re.DOTALL
    )
    assert block is not None
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    (tmp_path / "cassettes").mkdir()
    namespace: dict[str, object] = {}
    exec(doc_files()["tests/test_weather.py"].split("\n\ndef test_")[0], namespace)
    model = ScriptedModel([reply("Sunny in Paris.")])
    with model.install():  # The first run records (the stand-in answers); the second replays.
        exec(block.group(1), namespace)
    exec(block.group(1), namespace)
    assert namespace["result"].output == "Sunny in Paris."  # type: ignore[attr-defined]


def test_approval_example_sends_nothing_before_the_yes() -> None:
    out = run(EXAMPLES / "approval.py").stdout.splitlines()
    paused = out.index("paused; sent so far: []")
    approved = out.index("approved (no terminal to ask at)")
    assert paused < approved
    assert out[-2].startswith("outbox: [{'to': 'ada@example.com'")

"""Drift reports point at the difference: any length, the right recording, in a few lines."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
import yaml
from testing_projects import INI, SERVERS

from agentkit import Agent
from agentkit.exceptions import RequestMismatchError
from agentkit.testing import ScriptedModel, ScriptedRequest, cassette, reply

RULES = [f"{n}. Rule number {n}: keep answers about topic {n} short and polite." for n in range(1, 81)]


def record(path: Path, agent: Agent, question: str) -> None:
    with cassette(path, record="all"), ScriptedModel([reply("ok")]).install():
        agent.run_sync(question)


def drift(path: Path, agent: Agent, question: str) -> str:
    with pytest.raises(RequestMismatchError) as info, cassette(path):
        agent.run_sync(question)
    return str(info.value)


def test_a_change_deep_in_a_long_multi_line_prompt_shows_as_a_diff(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    record(path, Agent(model="gpt-4o-mini", instructions="\n".join(RULES)), "Hello")
    changed = [*RULES]
    changed[39] = "40. Rule number 40: always answer in French."
    message = drift(path, Agent(model="gpt-4o-mini", instructions="\n".join(changed)), "Hello")
    assert f"-{RULES[39]}" in message
    assert "+40. Rule number 40: always answer in French." in message
    assert f" {RULES[38]}" in message and f" {RULES[40]}" in message  # context either side
    assert RULES[0] not in message and RULES[79] not in message  # only the region that differs


def test_a_change_deep_in_a_long_single_line_prompt_shows_the_region(tmp_path: Path) -> None:
    path = tmp_path / "line.yaml"
    record(path, Agent(model="gpt-4o-mini", instructions=" ".join(RULES)), "Hello")
    changed = " ".join(RULES).replace("topic 40 short", "topic 40 long")
    message = drift(path, Agent(model="gpt-4o-mini", instructions=changed), "Hello")
    assert "first difference at character" in message
    assert "topic 40 short" in message and "topic 40 long" in message
    assert "Rule number 1:" not in message


def test_a_concurrent_run_is_compared_with_its_own_recording(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    agent = Agent(model="gpt-4o-mini", instructions="You are the order desk. " * 20)

    def answer(request: ScriptedRequest) -> object:
        return reply(f"Answer to: {request['messages'][-1]['content']}")

    def question(user: int, suffix: str = "") -> str:
        return f"I am customer {user}. Where is my order #{1000 + user}?{suffix}"

    async def users(questions: list[str]) -> None:
        await asyncio.gather(*(agent.run(q) for q in questions))

    with cassette(path, record="all"), ScriptedModel(answer).install():  # type: ignore[arg-type]
        asyncio.run(users([question(u) for u in range(4)]))
    recorded = [
        i["request"]["body"]["messages"][-1]["content"]
        for i in yaml.safe_load(path.read_text())["interactions"]
    ]
    # User 3 reworded the question, and asks first: the next unplayed recording is someone else's.
    with pytest.raises(RequestMismatchError) as info, cassette(path, allow_repeats=True):
        asyncio.run(users([question(3, " Thanks!")]))
    message = str(info.value)
    assert f"interaction #{recorded.index(question(3)) + 1}" in message
    assert "customer 3" in message and "customer 0" not in message
    assert "Thanks!" in message


def test_a_mismatch_reads_in_a_few_lines(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeconftest(SERVERS)
    pytester.makeini(INI)
    test = """
        import openai

        def test_ask(agent_cassette, model_url):
            client = openai.OpenAI(api_key="sk-local", base_url=model_url, max_retries=0)
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": QUESTION}])
    """
    pytester.makepyfile(test_ask=textwrap.dedent(test).replace("QUESTION", '"hello"'))
    pytester.runpytest_subprocess("--agentkit-record=once").assert_outcomes(passed=1)
    pytester.makepyfile(test_ask=textwrap.dedent(test).replace("QUESTION", '"hello there"'))
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    failure = result.stdout.str().split(" FAILURES ", 1)[1].split("short test summary", 1)[0]
    assert len(failure.splitlines()) <= 12, failure
    assert "test_ask.py:5: in test_ask" in failure
    assert (
        "RequestMismatchError" in failure and '\'content\': recorded "hello", sent "hello there"' in failure
    )
    # --fulltrace still shows everything.
    assert len(pytester.runpytest_subprocess("--fulltrace").stdout.lines) > 60

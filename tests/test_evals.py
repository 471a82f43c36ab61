"""``agentkit.evals.evaluate``: A/B over agent configurations with the scripted model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from agentkit import Agent, tool
from agentkit.evals import Case, evaluate, llm_judge, load_cases
from agentkit.exceptions import ConfigurationError, UserError
from agentkit.testing import ScriptedModel, ScriptedRequest, api_error, reply, tool_call


@tool
def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city's name.
    """
    return f"sunny in {city}"


CASES = [
    Case(
        "Weather in Paris?",
        [{"name": "get_weather", "arguments": {"city": "Paris"}}],
        "Sunny in Paris.",
        id="p",
    ),
    Case(
        "Weather in Oslo?",
        [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
        "oslo",
        "contains",
        id="o",
    ),
    Case("Say hi", [], "hi", id="h"),
]


def _model(request: ScriptedRequest) -> Any:
    """'good' answers as expected; 'bad' calls with a wrong argument and skips the tool for Oslo."""
    model, messages = request["model"], request["messages"]
    last, first_user = messages[-1], next(m["content"] for m in messages if m["role"] == "user")
    if "hi" in first_user:
        return reply("hi", usage=(10, 1))
    city = "Paris" if "Paris" in first_user else "Oslo"
    if last["role"] == "tool":
        return reply(f"Sunny in {city}.", usage=(30, 5))
    if model == "bad" and city == "Oslo":
        return reply("No idea.", usage=(20, 3))
    if model == "bad":
        return reply(tool_calls=[tool_call("get_weather", {"town": city})], usage=(20, 4))
    return reply(tool_calls=[tool_call("get_weather", {"city": city})], usage=(20, 4))


def _agents() -> dict[str, Agent[None, str]]:
    return {name: Agent(name, tools=[get_weather]) for name in ("good", "bad")}


async def test_ab_metrics_per_variant(tmp_path: Path) -> None:
    model = ScriptedModel(_model)
    with model.install():
        report = await evaluate(_agents(), CASES, concurrency=4)
    good, bad = report.metrics["good"], report.metrics["bad"]
    assert (good.cases, good.errors) == (3, 0)
    assert good.tool_selection_accuracy == 1.0 and good.argument_exact_match == 1.0
    assert good.schema_valid_rate == 1.0 and good.final_answer_score == 1.0
    assert bad.tool_selection_accuracy == pytest.approx(2 / 3)  # Oslo skipped the tool
    assert bad.argument_exact_match == pytest.approx(1 / 3)  # only "hi" (no calls) matches
    assert bad.schema_valid_rate == 0.0  # {"town": ...} misses the required "city"
    assert bad.final_answer_score == pytest.approx(2 / 3)
    assert good.input_tokens == 20 + 30 + 20 + 30 + 10 and good.output_tokens == 4 + 5 + 4 + 5 + 1
    assert good.latency_p95_s >= good.latency_p50_s > 0
    assert good.cost_usd is None  # "good" is not a priced model
    assert "tool selection" in report.table() and "100.0%" in report.table()
    data = json.loads(report.to_json())
    assert data["metrics"]["bad"]["errors"] == 0 and len(data["results"]) == 6
    report.write_png(tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_results_are_stored_and_resumed(tmp_path: Path) -> None:
    store = tmp_path / "results.jsonl"
    calls: list[str] = []

    def counting(request: ScriptedRequest) -> Any:
        calls.append(request["model"])
        return _model(request)

    with ScriptedModel(counting).install():
        await evaluate(_agents(), CASES[:2], results_path=store)
        first = len(calls)
        assert len(store.read_text().splitlines()) == 4
        report = await evaluate(_agents(), CASES, results_path=store)
    assert len(calls) - first == 2  # only the new case, once per variant
    assert report.metrics["good"].cases == 3
    assert len(store.read_text().splitlines()) == 6


async def test_failures_count_as_errors_and_do_not_stop_the_others() -> None:
    def flaky(request: ScriptedRequest) -> Any:
        if request["model"] == "bad":
            return api_error(400, message="model not found")
        return _model(request)

    with ScriptedModel(flaky).install():
        report = await evaluate(_agents(), CASES)
    assert report.metrics["bad"].errors == 3 and report.metrics["good"].errors == 0
    assert report.metrics["bad"].final_answer_score == 0.0
    assert all(r.error and "BadRequestError" in r.error for r in report.results if r.variant == "bad")


async def test_priced_model_has_a_cost_and_a_custom_scorer() -> None:
    agent = Agent("gpt-4o-mini", tools=[get_weather])
    cases = [Case("Say hi", None, "HI", match=lambda out, exp: out.upper() == exp, id="h")]
    with ScriptedModel(_model).install():
        report = await evaluate({"mini": agent}, cases)
    assert report.metrics["mini"].final_answer_score == 1.0
    assert report.metrics["mini"].tool_selection_accuracy is None
    assert report.metrics["mini"].cost_usd is not None and report.metrics["mini"].cost_usd > 0


async def test_llm_judge_scores_through_another_agent() -> None:
    judge = Agent("judge")
    answers = iter(["0.75", "not a number"])
    with ScriptedModel(lambda request: reply(next(answers))).install():
        score = llm_judge(judge)
        assert await score("Sunny", "Sunny in Paris") == 0.75
        assert await score("Rain", "Sunny in Paris") == 0.0


def test_load_cases(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(
        json.dumps(
            {
                "input": "Weather in Paris?",
                "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
                "expected_output": "Sunny",
                "match": "contains",
            }
        )
        + "\n\n"
        + json.dumps({"input": [{"role": "user", "content": "hi"}], "match": "mine", "id": "x", "tag": 1})
        + "\n"
    )
    first, second = load_cases(path, scorers={"mine": lambda o, e: 1.0})
    assert first.match == "contains" and first.id and second.id == "x" and second.metadata == {"tag": 1}
    path.write_text('{"input": "x", "match": "fuzzy"}\n')
    with pytest.raises(UserError, match=r"cases.jsonl:1: unknown match 'fuzzy'"):
        load_cases(path)


@pytest.mark.parametrize(
    ("status", "cause"),
    [(401, openai.AuthenticationError), (403, openai.PermissionDeniedError), (404, openai.NotFoundError)],
)
async def test_a_variant_that_cannot_run_stops_the_evaluation(
    tmp_path: Path, status: int, cause: type[Exception]
) -> None:
    def unknown_model(request: ScriptedRequest) -> Any:
        if request["model"] == "bad":
            return api_error(status, message="The model `bad` does not exist")
        return _model(request)

    store = tmp_path / "results.jsonl"
    with ScriptedModel(unknown_model).install(), pytest.raises(ConfigurationError) as caught:
        await evaluate(_agents(), CASES, concurrency=1, results_path=store)
    assert "variant 'bad' cannot run" in str(caught.value) and isinstance(caught.value.__cause__, cause)
    # What ran before is kept: the good variant's three results, which a rerun resumes from.
    assert [json.loads(line)["variant"] for line in store.read_text().splitlines()] == ["good"] * 3


async def test_no_api_key_stops_the_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(
        ConfigurationError, match=r"variant 'good' cannot run: ConfigurationError: .*OPENAI_API_KEY"
    ):
        await evaluate(Agent("good", tools=[get_weather]), CASES)


async def test_errors_of_single_cases_are_listed_under_the_table() -> None:
    def flaky(request: ScriptedRequest) -> Any:
        first_user = next(m["content"] for m in request["messages"] if m["role"] == "user")
        if request["model"] == "bad" and "Oslo" in first_user:
            return api_error(400, message="Invalid\nrequest for Oslo")
        return _model(request)

    with ScriptedModel(flaky).install():
        report = await evaluate(_agents(), CASES)
    table = report.table()
    assert "errors (1):\n  bad / o: BadRequestError: " in table
    assert table.splitlines()[-1].endswith("Invalid request for Oslo")  # one line per error


async def test_the_table_falls_back_to_plain_text_without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedModel(_model).install():
        report = await evaluate(_agents(), CASES)
    with_rich = report.table()
    monkeypatch.setitem(sys.modules, "rich.console", None)  # `from rich.console import ...` fails
    plain = report.table()
    assert plain != with_rich and "│" in with_rich and "│" not in plain
    lines = plain.splitlines()
    assert lines[0] == "evaluation" and lines[1].split() == ["metric", "good", "bad"]
    assert lines[2].split() == ["tool", "selection", "100.0%", "66.7%"]
    assert "errors (" not in plain  # no case failed


async def test_bad_arguments() -> None:
    with pytest.raises(UserError, match="not an agent: a 'int' has no run"):
        await evaluate({"x": 3}, CASES)
    with pytest.raises(UserError, match="not an agent"):
        await evaluate(object(), CASES)
    with pytest.raises(UserError, match="poll_interval"):
        await evaluate(_agents(), CASES, poll_interval=-1)
    with pytest.raises(UserError, match="no cases"):
        await evaluate(_agents(), [])
    with pytest.raises(UserError, match="share an id"):
        await evaluate(_agents(), [CASES[0], CASES[0]])
    with pytest.raises(UserError):
        Case(42)  # type: ignore[arg-type]


async def test_models_are_compared_through_clone() -> None:
    agent = Agent("base", tools=[get_weather])
    with ScriptedModel(_model).install():
        report = await evaluate(agent, CASES, models=["good", "bad"])
        single = await evaluate(agent.clone(model="good"), CASES[:1])
    assert list(report.metrics) == ["good", "bad"]
    assert report.metrics["good"].argument_exact_match == 1.0
    assert report.metrics["bad"].argument_exact_match == pytest.approx(1 / 3)
    assert list(single.metrics) == ["good"]
    with pytest.raises(UserError, match="not both"):
        await evaluate(_agents(), CASES, models=["good"])

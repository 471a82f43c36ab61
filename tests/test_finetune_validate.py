"""``agentkit.finetune.validate`` and ``estimate``: one known defect per rule, clean files, stats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from finetune_data import clean_example, defects, write_lines

from agentkit.exceptions import AgentkitError, UserError
from agentkit.finetune import ERROR_KINDS, default_epochs, estimate, validate

CLEAN = [clean_example(f"city{i}") for i in range(12)]


def test_a_clean_file_passes_with_distributions(tmp_path: Path) -> None:
    report = validate(write_lines(tmp_path / "train.jsonl", CLEAN))
    assert report.ok, report.format()
    assert report.problems == [] and report.examples == 12
    assert report.messages is not None and report.messages.min == report.messages.max == 5
    assert report.total_tokens is not None and report.total_tokens.min > 0
    assert report.assistant_tokens is not None and 0 < report.assistant_tokens.max < report.total_tokens.min
    assert report.billable_tokens == pytest.approx(report.total_tokens.mean * 12)
    assert report.tools_used == {"get_weather": 12}


@pytest.mark.parametrize("kind", sorted(defects()))
def test_each_defect_is_found_alone_with_its_line(tmp_path: Path, kind: str) -> None:
    rows = [*CLEAN[:5], defects()[kind], *CLEAN[5:]]
    report = validate(write_lines(tmp_path / f"{kind}.jsonl", rows))
    errors = [p for p in report.problems if p.severity == "error"]
    assert {p.kind for p in errors} == {kind}, report.format()
    assert {p.line for p in errors} == {6}
    assert not report.ok and report.counts[kind] >= 1


def test_every_error_kind_has_a_fixture_or_a_test() -> None:
    tested_elsewhere = {
        "too_many_tokens",
        "too_few_examples",
        "train_validation_overlap",
        "model_not_fine_tunable",
    }
    assert set(defects()) | tested_elsewhere == set(ERROR_KINDS)


def test_token_limit_is_an_error(tmp_path: Path) -> None:
    long = clean_example("Oslo")
    long["messages"][1]["content"] = "word " * 400
    report = validate(write_lines(tmp_path / "t.jsonl", [*CLEAN, long]), max_tokens=200)
    assert [(p.kind, p.line) for p in report.problems] == [("too_many_tokens", 13)]
    assert report.billable_tokens < sum([report.total_tokens.max] * 13)  # type: ignore[union-attr]


def test_too_few_examples(tmp_path: Path) -> None:
    report = validate(write_lines(tmp_path / "t.jsonl", CLEAN[:9]))
    assert [(p.kind, p.line) for p in report.problems] == [("too_few_examples", 0)]


def test_overlap_between_train_and_validation(tmp_path: Path) -> None:
    train = write_lines(tmp_path / "train.jsonl", CLEAN)
    valid = write_lines(tmp_path / "valid.jsonl", [clean_example("elsewhere"), CLEAN[3]])
    report = validate(train, validation_file=valid)
    assert [(p.kind, p.line, p.file) for p in report.problems] == [
        ("train_validation_overlap", 2, str(valid))
    ]


def test_duplicates_missing_system_and_images_are_warnings(tmp_path: Path) -> None:
    no_system = clean_example("Rome")
    no_system["messages"].pop(0)
    image = clean_example("Nice")
    image["messages"][1]["content"] = [
        {"type": "text", "text": "What city is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/nice.png"}},
    ]
    report = validate(write_lines(tmp_path / "t.jsonl", [*CLEAN, CLEAN[0], no_system, image]))
    assert report.ok
    assert report.counts == {"duplicate_example": 1, "missing_system_message": 1, "tokens_not_counted": 1}
    assert report.examples == 15 and report.messages is not None


def test_dpo_lines_and_weights_pass(tmp_path: Path) -> None:
    pair = {
        "input": {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": CLEAN[0]["tools"]},
        "preferred_output": [CLEAN[0]["messages"][2]],
        "non_preferred_output": [{"role": "assistant", "content": "I don't know."}],
    }
    weighted = clean_example("Lima")
    weighted["messages"][2]["weight"] = 0
    report = validate(write_lines(tmp_path / "t.jsonl", [*CLEAN, pair, weighted]))
    assert report.errors == 0, report.format()


def test_report_text_json_and_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lines(tmp_path / "t.jsonl", [*CLEAN, defects()["unknown_tool"]])
    report = validate(path, progress=True)
    text = report.format()
    assert f"{path}:13: error unknown_tool" in text and "unknown_tool: 1" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["counts"] == {"unknown_tool": 1} and data["ok"] is False


def test_missing_file_and_unknown_model_are_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="No such training file"):
        validate(tmp_path / "nope.jsonl")
    with pytest.raises(AgentkitError):
        validate(write_lines(tmp_path / "t.jsonl", CLEAN), model="no-such-model")


def test_estimate_uses_the_default_epoch_rule(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "t.jsonl", CLEAN)
    report = validate(path)
    result = estimate(path, model="gpt-4o-mini")
    assert result.examples == 12 and result.epochs == 8 and result.epochs_defaulted  # 100 // 12
    assert result.tokens_per_epoch == report.billable_tokens
    assert result.billable_tokens == 8 * report.billable_tokens
    assert result.price_per_million is not None and result.price_per_million > 0
    assert result.cost_usd == pytest.approx(result.billable_tokens * result.price_per_million / 1e6)
    given = estimate(CLEAN, model="gpt-4o-mini", epochs=2)
    assert given.epochs == 2 and not given.epochs_defaulted
    assert estimate(CLEAN, model="o4-mini").cost_usd is None  # no training price in the table


@pytest.mark.parametrize(("n", "epochs"), [(1, 25), (10, 10), (34, 3), (5000, 3), (10000, 2), (30000, 1)])
def test_default_epochs(n: int, epochs: int) -> None:
    assert default_epochs(n) == epochs


def test_a_model_that_cannot_be_fine_tuned_is_an_error_kind(tmp_path: Path) -> None:
    report = validate(write_lines(tmp_path / "t.jsonl", CLEAN), model="gpt-5")
    assert not report.ok and report.counts == {"model_not_fine_tunable": 1}
    assert "'gpt-5' cannot be fine-tuned" in report.problems[0].message
    assert report.total_tokens is not None and report.total_tokens.max > 0  # the rest is still checked
    # A fine-tuned model continues training from its base model, which can be fine-tuned.
    assert validate(write_lines(tmp_path / "t.jsonl", CLEAN), model="ft:gpt-4o-mini-2024-07-18:acme::x").ok
    with pytest.raises(UserError, match="'gpt-5' cannot be fine-tuned"):
        estimate(CLEAN, model="gpt-5")


@pytest.mark.parametrize("limit", [0, -5, 2.5, True])
def test_the_token_limit_must_be_a_positive_integer(tmp_path: Path, limit: Any) -> None:
    path = write_lines(tmp_path / "t.jsonl", CLEAN)
    with pytest.raises(UserError, match="max_tokens must be a positive integer"):
        validate(path, max_tokens=limit)
    with pytest.raises(UserError, match="max_tokens must be a positive integer"):
        estimate(path, max_tokens=limit)


def test_estimate_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        estimate(CLEAN, epochs=0)
    with pytest.raises(UserError, match="not valid JSON"):
        estimate(write_lines(tmp_path / "bad.jsonl", ["{"]))
    with pytest.raises(UserError):
        estimate([])


@pytest.mark.parametrize(
    ("arguments", "valid"),
    [
        ({"city": "Oslo"}, True),
        ({"city": "Oslo", "unit": "c"}, True),
        ({"city": "Oslo", "unit": "k"}, False),
        ({"city": 3}, False),
        ({"city": "Oslo", "extra": 1}, False),
        ({}, False),
    ],
)
def test_arguments_are_checked_against_the_schema(
    tmp_path: Path, arguments: dict[str, object], valid: bool
) -> None:
    example = clean_example("Oslo")
    example["messages"][2]["tool_calls"][0]["function"]["arguments"] = json.dumps(arguments)
    report = validate(write_lines(tmp_path / "t.jsonl", [*CLEAN, example]))
    assert report.counts.get("arguments_schema", 0) == (0 if valid else 1)


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    import tracemalloc

    def peak(lines: int) -> int:
        path = write_lines(tmp_path / f"{lines}.jsonl", [clean_example(f"c{i}") for i in range(lines)])
        validate(path)  # warm the tokenizer and the schema cache outside the measurement
        tracemalloc.start()
        try:
            validate(path)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(100), peak(1000)
    # What is kept per example: an 8-byte digest in a set and three integers, ~100-200 bytes.
    assert large - small < 900 * 300, (small, large)

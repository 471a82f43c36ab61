"""``agentkit.finetune.split``: seeded, grouped by conversation, optionally stratified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from finetune_data import clean_example, write_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit.exceptions import UserError
from agentkit.finetune import conversation_groups, split


def _is_prefix(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("tools") == b.get("tools") and b["messages"][: len(a["messages"])] == a["messages"]


def _thread(name: str, turns: int) -> list[dict[str, Any]]:
    """One example per turn of one thread: each is a prefix of the next."""
    return [clean_example(name, turns=t) for t in range(1, turns + 1)]


@settings(max_examples=60, deadline=None)
@given(
    threads=st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(1, 4)), min_size=2, max_size=12),
    duplicates=st.lists(st.integers(0, 30), max_size=5),
    seed=st.integers(0, 2**32),
    fraction=st.floats(0.7, 0.9),
    stratify=st.booleans(),
)
def test_no_conversation_straddles_the_split(
    threads: list[tuple[str, int]], duplicates: list[int], seed: int, fraction: float, stratify: bool
) -> None:
    examples = [e for name, turns in threads for e in _thread(name, turns)]
    examples += [examples[i % len(examples)] for i in duplicates]
    if len(set(conversation_groups(examples))) < 2:
        return
    train, validation = split(examples, train_fraction=fraction, seed=seed, stratify=stratify)
    assert len(train) + len(validation) == len(examples) and train and validation
    for a in train:
        for b in validation:
            assert not _is_prefix(a, b) and not _is_prefix(b, a)
    assert split(examples, train_fraction=fraction, seed=seed, stratify=stratify) == (train, validation)


def test_fraction_is_close_and_seed_changes_it(tmp_path: Path) -> None:
    examples = [clean_example(f"c{i}") for i in range(100)]
    path = write_lines(tmp_path / "all.jsonl", examples)
    train, validation = split(path, train_fraction=0.8, seed=1)
    assert len(train) == 80 and len(validation) == 20
    assert split(path, train_fraction=0.8, seed=2) != (train, validation)


def test_stratified_split_keeps_each_trajectory_kind_on_both_sides() -> None:
    plain = [
        {"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": "hello"}]}
        for i in range(10)
    ]
    tooled = [clean_example(f"c{i}") for i in range(40)]
    train, validation = split(plain + tooled, train_fraction=0.8, seed=3, stratify=True)

    def plain_count(rows: list[dict[str, Any]]) -> int:
        return sum("tools" not in r for r in rows)

    assert plain_count(train) == 8 and plain_count(validation) == 2


def test_bad_input() -> None:
    with pytest.raises(UserError, match=r"between 0\.7 and 0\.9"):
        split([clean_example()], train_fraction=0.5)
    with pytest.raises(UserError, match="nothing to split"):
        split(_thread("x", 3))


def test_bad_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not valid JSON"):
        split(write_lines(tmp_path / "bad.jsonl", ["{", json.dumps(clean_example())]))
    with pytest.raises(UserError, match="No such file"):
        split(tmp_path / "missing.jsonl")


def test_public_names() -> None:
    import agentkit.evals
    import agentkit.finetune

    assert {"export_examples", "validate", "estimate", "split"} <= set(agentkit.finetune.__all__)
    assert agentkit.finetune.__all__ == [
        "ERROR_KINDS",
        "WARNING_KINDS",
        "Conversation",
        "Distribution",
        "Estimate",
        "Problem",
        "Report",
        "WeightRule",
        "conversation_groups",
        "default_epochs",
        "estimate",
        "export_examples",
        "preference_pairs",
        "read_cassette",
        "split",
        "validate",
        "write_jsonl",
    ]
    assert agentkit.evals.__all__ == [
        "Case",
        "CaseResult",
        "EvalReport",
        "ModelMetrics",
        "Scorer",
        "evaluate",
        "llm_judge",
        "load_cases",
    ]

"""``split``: a seeded train/validation split that never cuts a conversation in two.

Plain JSONL has no conversation id, so conversations are recognised by content: two examples
belong together when they are identical or when one's messages are a prefix of the other's
(successive turns of one thread exported one example per turn). Whole groups go to one side.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..exceptions import UserError

__all__ = ["conversation_groups", "split"]


def _messages(example: dict[str, Any]) -> list[Any]:
    if "messages" in example:
        return list(example["messages"])
    given = example.get("input") or {}
    return list(given.get("messages") or []) + list(example.get("preferred_output") or [])


def _chain(example: dict[str, Any]) -> list[bytes]:
    """A digest of every prefix of the example's messages (weights ignored)."""
    digest = hashlib.blake2b(
        json.dumps(example.get("tools"), sort_keys=True).encode(), digest_size=16
    ).digest()
    out = []
    for m in _messages(example):
        if isinstance(m, dict):
            m = {k: v for k, v in m.items() if k != "weight"}
        text = json.dumps(m, sort_keys=True, ensure_ascii=False)
        digest = hashlib.blake2b(digest + text.encode(), digest_size=16).digest()
        out.append(digest)
    return out


def conversation_groups(examples: list[dict[str, Any]]) -> list[int]:
    """Return a group number per example: equal numbers mean one conversation."""
    parent = list(range(len(examples)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    chains = [_chain(e) for e in examples]
    whole: dict[bytes, int] = {}
    for i, chain in enumerate(chains):
        if chain:
            key = chain[-1]
            if key in whole:
                parent[find(i)] = find(whole[key])
            else:
                whole[key] = i
    for i, chain in enumerate(chains):
        for digest in chain[:-1]:  # a proper prefix that is an example of its own
            j = whole.get(digest)
            if j is not None:
                parent[find(i)] = find(j)
    return [find(i) for i in range(len(examples))]


def _tools_used(example: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                tc.get("function", {}).get("name", "")
                for m in _messages(example)
                if isinstance(m, dict)
                for tc in m.get("tool_calls") or ()
                if isinstance(tc, dict)
            }
        )
    )


def split(
    source: str | os.PathLike[str] | Iterable[dict[str, Any]],
    *,
    train_fraction: float = 0.8,
    seed: int = 0,
    stratify: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split examples into ``(train, validation)``, deterministically for a given ``seed``.

    Args:
        source: A JSONL file or an iterable of examples.
        train_fraction: Share of examples for training, 0.7 to 0.9. Groups are kept whole, so
            the share reached is the closest a group boundary allows.
        seed: The same seed and input give the same split.
        stratify: Split each set of used tools (e.g. ``("get_weather",)``, ``()`` for none)
            separately, so both sides see every kind of trajectory in the same proportions.

    Returns:
        The training and validation examples, each in input order.

    Raises:
        UserError: ``train_fraction`` is outside 0.7-0.9, the file is missing or has a line that
            is not a JSON object, or there are fewer than two conversations.
    """
    if not 0.7 <= train_fraction <= 0.9:
        raise UserError(f"train_fraction must be between 0.7 and 0.9, not {train_fraction}.")
    examples = _load(source)
    groups = conversation_groups(examples)
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    if len(members) < 2:
        raise UserError(f"{len(examples)} example(s) in {len(members)} conversation(s): nothing to split.")
    strata: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for g in sorted(members):  # groups numbered by their first example: a stable order
        strata[_tools_used(examples[g]) if stratify else ()].append(g)
    rng = random.Random(seed)
    in_train: set[int] = set()
    for key in sorted(strata):
        chosen = strata[key]
        rng.shuffle(chosen)
        target = train_fraction * sum(len(members[g]) for g in chosen)
        taken = 0
        for g in chosen:
            if taken + len(members[g]) / 2 <= target:
                in_train.add(g)
                taken += len(members[g])
    if len(in_train) == len(members):  # keep at least one conversation for validation
        in_train.discard(max(in_train, key=lambda g: len(members[g])))
    if not in_train:
        in_train.add(min(members, key=lambda g: len(members[g])))
    train = [e for e, g in zip(examples, groups, strict=False) if g in in_train]
    validation = [e for e, g in zip(examples, groups, strict=False) if g not in in_train]
    return train, validation


def _load(source: str | os.PathLike[str] | Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(source, (str, os.PathLike)):
        return list(source)
    path = Path(source)
    if not path.is_file():
        raise UserError(f"No such file: {path}")
    out = []
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                example = json.loads(raw)
            except ValueError as exc:
                raise UserError(f"{path}:{number} is not valid JSON ({exc}); run validate first.") from exc
            if not isinstance(example, dict):
                raise UserError(f"{path}:{number} is not a JSON object; run validate first.")
            out.append(example)
    return out

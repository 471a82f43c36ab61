"""Fine-tuning data from recorded runs: export, validate, estimate, split; and a thin job client.

The dataset side works on plain chat JSONL with tools (the format other providers accept too)
and never calls the OpenAI API::

    examples = await export_examples(session, agent=agent, successful_only=True)
    write_jsonl(examples, "train.jsonl")
    report = validate("train.jsonl", model="gpt-4o-mini")
    print(report.format())
    print(estimate("train.jsonl", model="gpt-4o-mini").cost_usd)
    train, validation = split("all.jsonl", train_fraction=0.8, seed=7)

The job client (``agentkit.finetune.jobs``) is optional and thin. OpenAI stops new self-serve
fine-tuning jobs on 2027-01-06 and shuts the base snapshots down in 2027-01 (as agentkit issue 16
states OpenAI's notice; not re-checked here); nothing above depends on it.
"""

from __future__ import annotations

from ._estimate import Estimate, default_epochs, estimate
from ._export import Conversation, WeightRule, export_examples, read_cassette, write_jsonl
from ._preference import preference_pairs
from ._rules import ERROR_KINDS, WARNING_KINDS, Problem
from ._split import conversation_groups, split
from ._validate import Distribution, Report, validate

__all__ = [
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

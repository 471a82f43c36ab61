"""``estimate``: billable training tokens and cost, with the API's default epoch count."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import UserError
from ._count import DEFAULT_MAX_TOKENS, example_tokens

__all__ = [
    "Estimate",
    "check_max_tokens",
    "default_epochs",
    "estimate",
    "not_fine_tunable",
    "require_fine_tunable",
]

# The default n_epochs rule, from OpenAI's cookbook notebook "Data preparation and analysis for
# chat model fine-tuning" (openai/openai-cookbook, examples/Chat_finetuning_data_prep.ipynb,
# cell "Pricing and default n_epochs estimate", read 2026-11-29): aim at 3 epochs, but at least
# 100 and at most 25,000 example passes, and between 1 and 25 epochs.
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


def default_epochs(n_examples: int) -> int:
    """The number of epochs the API picks when ``n_epochs`` is ``"auto"``.

    Raises:
        UserError: ``n_examples`` is not positive.
    """
    if n_examples < 1:
        raise UserError("There are no examples to train on.")
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


@dataclass(frozen=True)
class Estimate:
    """What a training run on a file would bill."""

    model: str
    """The model to fine-tune."""
    examples: int
    """Training examples counted."""
    tokens_per_epoch: int
    """Billable tokens in one pass: each example's tokens, capped at the per-example limit."""
    epochs: int
    """Epochs assumed (given, or the API's default for this many examples)."""
    epochs_defaulted: bool
    """Whether ``epochs`` is the API's default rather than a given value."""
    price_per_million: float | None
    """Training price in USD per 1M tokens from ``agentkit.models``, or ``None`` when unknown."""

    @property
    def billable_tokens(self) -> int:
        """Tokens billed for the whole run: ``tokens_per_epoch * epochs``."""
        return self.tokens_per_epoch * self.epochs

    @property
    def cost_usd(self) -> float | None:
        """Estimated cost in USD, or ``None`` when the model's training price is unknown."""
        if self.price_per_million is None:
            return None
        return self.billable_tokens * self.price_per_million / 1_000_000

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, with the derived fields."""
        return {**self.__dict__, "billable_tokens": self.billable_tokens, "cost_usd": self.cost_usd}


def _read(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if raw.strip():
                try:
                    yield json.loads(raw)
                except ValueError as exc:
                    raise UserError(
                        f"{path}:{number} is not valid JSON ({exc}); run validate first."
                    ) from exc


def training_price(model: str) -> float | None:
    """USD per 1M training tokens for ``model`` (an ``ft:`` name resolves to its base model)."""
    from ..models import model_info

    info = model_info(model, default=None)
    return None if info is None else info.training_price


def not_fine_tunable(model: str) -> str | None:
    """Why ``model`` cannot be fine-tuned, or ``None`` when it can (or the table does not know it).

    The table's ``supports_fine_tuning`` flag decides; an ``ft:`` name resolves to its base model,
    and a model the table does not know is left for the API to judge.
    """
    from ..models import model_info

    info = model_info(model, default=None)
    if info is None or info.supports_fine_tuning:
        return None
    return f"{model!r} cannot be fine-tuned (agentkit.models: supports_fine_tuning is False)"


def require_fine_tunable(model: str) -> None:
    """Refuse a model the table knows cannot be fine-tuned.

    Raises:
        UserError: ``model``'s ``supports_fine_tuning`` is False.
    """
    reason = not_fine_tunable(model)
    if reason is not None:
        raise UserError(f"{reason}; pick a model with fine-tune 'yes' in `agentkit models`.")


def check_max_tokens(max_tokens: int) -> None:
    """Refuse a per-example token limit that is not a positive integer.

    Raises:
        UserError: ``max_tokens`` is not an ``int`` of at least 1.
    """
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise UserError(f"max_tokens must be a positive integer, not {max_tokens!r}.")


def estimate(
    source: str | os.PathLike[str] | Iterable[dict[str, Any]],
    *,
    model: str = "gpt-4o-mini",
    epochs: int | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> Estimate:
    """Estimate billable training tokens and cost, streaming over the file.

    Args:
        source: A JSONL file or an iterable of examples.
        model: The model to fine-tune (its tokenizer and its training price).
        epochs: Epochs to train; ``None`` uses the API's default for the number of examples.
        max_tokens: The per-example limit: longer examples are billed (truncated) at it.

    Raises:
        UserError: The file is missing, a line is not JSON, ``epochs`` or ``max_tokens`` is not
            positive, or the model cannot be fine-tuned (``supports_fine_tuning`` is False).
        UnknownModelError: The model table does not know the model (its tokenizer is unknown).
    """
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
        raise UserError(f"epochs must be a positive integer, not {epochs!r}.")
    check_max_tokens(max_tokens)
    require_fine_tunable(model)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise UserError(f"No such training file: {path}")
        source = _read(path)
    count = tokens = 0
    for example in source:
        count += 1
        tokens += min(example_tokens(example, model)[0], max_tokens)
    chosen = epochs if epochs is not None else default_epochs(count)
    return Estimate(model, count, tokens, chosen, epochs is None, training_price(model))

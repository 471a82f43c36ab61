"""What a model costs, how much it reads and writes, and what it supports: an offline, dated table.

``model_info(name)`` answers from a table that ships with the library; ``register_model(info)``
adds or replaces an entry (a self-hosted model on vLLM, a new snapshot, a negotiated price).
Snapshot names (``gpt-4o-2024-08-06``) and fine-tuned names (``ft:gpt-4o-mini:org::id``,
``ft:gpt-4o-mini-2024-07-18:org:suffix:id``) resolve to their base model. An unknown name raises
`UnknownModelError`, or returns ``default`` when one is given: a price is never guessed.

Source of the shipped table, taken 2026-11-29: OpenAI's pricing page
(https://platform.openai.com/docs/pricing, "Standard" tier, text tokens, USD per 1M tokens) and
its model pages (https://platform.openai.com/docs/models/<name>: context window, max output
tokens, features). Those pages could not be opened from the machine this table was written on, so
the numbers were checked that day against public copies of them (OpenAI's own developer model
page for GPT-5, model catalogues and pricing guides dated 2026 that quote OpenAI's pages):

- Verified (two or more copies agree): input and output prices of every chat model and of the
  three embedding models; context window and max output tokens of gpt-4o, gpt-4o-mini, gpt-4.1
  (-mini, -nano), gpt-5 and gpt-5-mini (400,000 in+out, 128,000 out), o3, o4-mini, gpt-3.5-turbo.
- Seen in one copy only: the cached-input prices of gpt-4o-mini, gpt-4.1-mini, gpt-4.1-nano
  (quoted there rounded to $0.03), gpt-5 and o4-mini; the fine-tuned gpt-4o-mini prices.
- NOT verified (OpenAI's 2025 values, from memory of its pages): the cached-input prices of
  gpt-4o, gpt-4.1, gpt-5-mini, gpt-5-nano and o3; every ``training_price`` and the other
  fine-tuned inference prices in ``_FINE_TUNED`` (copies disagree); the 8,191-token input limit of
  the embedding models; gpt-5-nano's limits (one copy says 32,000 max output tokens, the value kept
  here is OpenAI's 128,000); ``supports_parallel_tool_calls`` of o3 and o4-mini; ``shutdown_date``
  (none announced for these models as far as could be checked, so all are ``None``).

o4-mini is fine-tuned by reinforcement fine-tuning, billed per training hour, not per token, so its
``training_price`` is ``None`` while ``supports_fine_tuning`` is ``True``.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import threading
from dataclasses import dataclass
from typing import Final, TypeVar, overload

from .exceptions import UnknownModelError

__all__ = [
    "TABLE_DATE",
    "ModelInfo",
    "UnknownModelError",
    "cost_usd",
    "list_models",
    "model_info",
    "register_model",
    "reset_models",
]

T = TypeVar("T")

TABLE_DATE: Final = datetime.date(2026, 11, 29)
"""The day the shipped prices and limits were taken from OpenAI's pages."""


@dataclass(frozen=True)
class ModelInfo:
    """Limits, prices and features of one model. Prices are USD per 1M tokens."""

    name: str
    """The base model name, e.g. ``"gpt-4o"`` (never a snapshot or ``ft:`` name)."""
    context_window: int
    """Input plus output tokens one request may use."""
    max_output_tokens: int | None
    """Most tokens one reply may have (reasoning tokens included); ``None`` for embedding models."""
    input_price: float | None
    """USD per 1M uncached input tokens; ``None`` when unknown (e.g. self-hosted, free)."""
    cached_input_price: float | None
    """USD per 1M input tokens served from the prompt cache; ``None`` when no discount is offered."""
    output_price: float | None
    """USD per 1M output tokens; ``None`` for embedding models or when unknown."""
    training_price: float | None = None
    """USD per 1M training tokens for fine-tuning; ``None`` when not offered or not billed per token."""
    supports_tools: bool = True
    """Whether the model accepts ``tools`` (function calling)."""
    supports_parallel_tool_calls: bool = True
    """Whether the model may return several ``tool_calls`` in one reply."""
    supports_structured_outputs: bool = True
    """Whether ``response_format`` with a strict JSON schema (and ``strict`` tools) is accepted."""
    supports_fine_tuning: bool = False
    """Whether OpenAI offers fine-tuning of this model."""
    encoding: str | None = "o200k_base"
    """The tiktoken encoding name of the model's tokenizer; ``None`` when unknown."""
    shutdown_date: datetime.date | None = None
    """The announced shutdown date, if any."""
    embedding_dimensions: int | None = None
    """Length of the ``embedding`` vector for embedding models (default size); ``None`` otherwise."""
    kind: str = "chat"
    """``"chat"`` (Chat Completions / Responses) or ``"embedding"``."""


def _chat(
    name: str,
    context_window: int,
    max_output_tokens: int,
    prices: tuple[float, float | None, float],
    training_price: float | None = None,
    **flags: bool | str,
) -> ModelInfo:
    input_price, cached, output = prices
    return ModelInfo(
        name,
        context_window,
        max_output_tokens,
        input_price,
        cached,
        output,
        training_price,
        **flags,  # type: ignore[arg-type]
    )


def _embedding(name: str, price: float, dimensions: int) -> ModelInfo:
    return ModelInfo(
        name,
        8191,
        None,
        price,
        None,
        None,
        supports_tools=False,
        supports_parallel_tool_calls=False,
        supports_structured_outputs=False,
        encoding="cl100k_base",
        embedding_dimensions=dimensions,
        kind="embedding",
    )


_SHIPPED: Final[tuple[ModelInfo, ...]] = (
    _chat("gpt-4o", 128_000, 16_384, (2.50, 1.25, 10.00), 25.00, supports_fine_tuning=True),
    _chat("gpt-4o-mini", 128_000, 16_384, (0.15, 0.075, 0.60), 3.00, supports_fine_tuning=True),
    _chat("gpt-4.1", 1_047_576, 32_768, (2.00, 0.50, 8.00), 25.00, supports_fine_tuning=True),
    _chat("gpt-4.1-mini", 1_047_576, 32_768, (0.40, 0.10, 1.60), 5.00, supports_fine_tuning=True),
    _chat("gpt-4.1-nano", 1_047_576, 32_768, (0.10, 0.025, 0.40), 1.50, supports_fine_tuning=True),
    _chat("gpt-5", 400_000, 128_000, (1.25, 0.125, 10.00)),
    _chat("gpt-5-mini", 400_000, 128_000, (0.25, 0.025, 2.00)),
    _chat("gpt-5-nano", 400_000, 128_000, (0.05, 0.005, 0.40)),
    _chat("o3", 200_000, 100_000, (2.00, 0.50, 8.00)),
    _chat("o4-mini", 200_000, 100_000, (1.10, 0.275, 4.40), None, supports_fine_tuning=True),
    _chat(
        "gpt-3.5-turbo",
        16_385,
        4_096,
        (0.50, None, 1.50),
        8.00,
        supports_structured_outputs=False,
        supports_fine_tuning=True,
        encoding="cl100k_base",
    ),
    _embedding("text-embedding-3-small", 0.02, 1536),
    _embedding("text-embedding-3-large", 0.13, 3072),
    _embedding("text-embedding-ada-002", 0.10, 1536),
)

# Inference prices of fine-tuned models (input, cached input, output), which differ from the
# base model's; OpenAI's pricing page, "Fine-tuning" section (2025 values, see the module docstring).
_FINE_TUNED: Final[dict[str, tuple[float, float | None, float]]] = {
    "gpt-4o": (3.75, 1.875, 15.00),
    "gpt-4o-mini": (0.30, 0.15, 1.20),
    "gpt-4.1": (3.00, 0.75, 12.00),
    "gpt-4.1-mini": (0.80, 0.20, 3.20),
    "gpt-4.1-nano": (0.20, 0.05, 0.80),
    "gpt-3.5-turbo": (3.00, None, 6.00),
}

_lock = threading.Lock()
_table: dict[str, ModelInfo] = {info.name: info for info in _SHIPPED}
_MISSING: Final = object()

# A dated snapshot suffix: -2024-08-06 (current style) or -0125 / -1106 (gpt-3.5 / gpt-4 style).
_SNAPSHOT = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{4})$")


@overload
def model_info(name: str) -> ModelInfo: ...
@overload
def model_info(name: str, default: T) -> ModelInfo | T: ...
def model_info(name: str, default: object = _MISSING) -> object:
    """Return what the table knows about model ``name``.

    An exact entry wins (a registered snapshot or fine-tuned name overrides its base). Otherwise a
    snapshot name resolves to its base, and a fine-tuned name ``ft:<base>[-<snapshot>]:<org>:...``
    resolves to its base with the fine-tuned inference prices when those are known.

    Args:
        name: A model name as sent in ``model``, e.g. ``"gpt-4o-2024-08-06"``.
        default: Returned instead of raising when the model is unknown.

    Raises:
        UnknownModelError: The name is not in the table and no ``default`` was given.
    """
    with _lock:
        table = _table
        info = _resolve(name, table)
    if info is not None:
        return info
    if default is not _MISSING:
        return default
    raise UnknownModelError(name, known=sorted(table))


def _resolve(name: str, table: dict[str, ModelInfo]) -> ModelInfo | None:
    if name in table:
        return table[name]
    if name.startswith("ft:"):
        base_name = name.split(":")[1] if name.count(":") >= 2 else ""
        base = _resolve(base_name, table) if base_name else None
        if base is None or base.name not in _FINE_TUNED:
            return base
        if table.get(base.name) is not _shipped(base.name):
            return base  # the user replaced the base entry: their prices win
        input_price, cached, output = _FINE_TUNED[base.name]
        return dataclasses.replace(
            base, input_price=input_price, cached_input_price=cached, output_price=output
        )
    stripped = _SNAPSHOT.sub("", name)
    if stripped != name:
        return _resolve(stripped, table)
    return None


def _shipped(name: str) -> ModelInfo | None:
    return next((info for info in _SHIPPED if info.name == name), None)


def register_model(info: ModelInfo, *, aliases: tuple[str, ...] = ()) -> None:
    """Add a model to the table, or replace the entry of the same name, for this process.

    Use it for a self-hosted model (prices ``None`` when nothing is billed, ``encoding`` ``None``
    when its tokenizer is not one of OpenAI's), a new snapshot, or a negotiated price. An entry
    for a base name also applies to its snapshots and fine-tuned names.

    Args:
        info: The entry; ``info.name`` is the key.
        aliases: More names that resolve to the same entry.
    """
    with _lock:
        global _table
        table = dict(_table)
        for key in (info.name, *aliases):
            table[key] = info
        _table = table


def reset_models() -> None:
    """Forget every `register_model` call: back to the shipped table."""
    with _lock:
        global _table
        _table = {info.name: info for info in _SHIPPED}


def list_models() -> list[ModelInfo]:
    """Return every entry of the table (shipped and registered), sorted by name, aliases once."""
    with _lock:
        unique = {id(info): info for info in _table.values()}
    return sorted(unique.values(), key=lambda info: info.name)


def cost_usd(
    model: str | ModelInfo, *, input_tokens: int = 0, cached_tokens: int = 0, output_tokens: int = 0
) -> float | None:
    """Return what the tokens of one or more requests cost in USD, or ``None`` if it is not known.

    ``input_tokens`` includes ``cached_tokens``, as ``usage.prompt_tokens`` does; the cached part is
    priced at ``cached_input_price`` (at ``input_price`` when the model has no cache discount).
    Reasoning tokens are part of ``output_tokens``.

    Args:
        model: A model name (resolved like `model_info`) or a `ModelInfo`.
        input_tokens: Prompt tokens, cached ones included.
        cached_tokens: The part of ``input_tokens`` served from the prompt cache.
        output_tokens: Completion tokens, reasoning included.

    Returns:
        The cost in USD; ``None`` when the model is unknown or a price that is needed is ``None``.

    Raises:
        ValueError: A count is negative, or ``cached_tokens`` exceeds ``input_tokens``.
    """
    if min(input_tokens, cached_tokens, output_tokens) < 0:
        raise ValueError("token counts must not be negative")
    if cached_tokens > input_tokens:
        raise ValueError(f"cached_tokens ({cached_tokens}) exceeds input_tokens ({input_tokens})")
    info = model if isinstance(model, ModelInfo) else model_info(model, default=None)
    if info is None:
        return None
    cached_price = info.cached_input_price if info.cached_input_price is not None else info.input_price
    parts = (
        (input_tokens - cached_tokens, info.input_price),
        (cached_tokens, cached_price),
        (output_tokens, info.output_price),
    )
    total = 0.0
    for tokens, price in parts:
        if tokens == 0:
            continue
        if price is None:
            return None
        total += tokens * price
    return total / 1_000_000

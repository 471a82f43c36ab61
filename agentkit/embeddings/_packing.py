"""Pack embedding inputs into as few requests as the API's limits allow, counting tokens offline.

Counting every text with the tokenizer costs more than the requests themselves for short
texts, so the packer starts from a free upper bound: a byte-level BPE token (``cl100k_base``,
``o200k_base``) covers at least one byte of UTF-8, so ``len(text.encode())`` is never below the
token count. Texts are counted exactly only when that bound cannot prove a limit is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Limits", "pack", "upper_bound"]


@dataclass(frozen=True)
class Limits:
    """The per-request limits of an embeddings endpoint."""

    max_inputs: int = 2048
    """Inputs per request (OpenAI API reference, ``input`` of ``/v1/embeddings``, read 2026-11)."""
    max_tokens: int = 300_000
    """Tokens summed over one request's inputs (OpenAI API reference, read 2026-11)."""


def upper_bound(text: str) -> int:
    """A bound that is never below the token count of ``text`` (its UTF-8 length)."""
    return len(text.encode("utf-8"))


def pack(texts: Sequence[str], count: Callable[[str], int], limits: Limits) -> list[range]:
    """Split ``texts`` into consecutive batches that keep ``limits``.

    Args:
        texts: The inputs, each already within the per-input limit.
        count: The exact token count of one text (called only when the bound is not enough).
        limits: Per-request limits.

    Returns:
        Index ranges into ``texts``, in order, covering every text once. A run of texts whose
        byte bound fits uses the fewest requests the input limit allows.
    """
    batches: list[range] = []
    start = 0
    n = len(texts)
    while start < n:
        stop = min(n, start + limits.max_inputs)
        if sum(upper_bound(t) for t in texts[start:stop]) <= limits.max_tokens:
            batches.append(range(start, stop))
            start = stop
            continue
        # The bound is not enough: count exactly and fill the request greedily.
        total, end = 0, start
        while end < stop:
            tokens = count(texts[end])
            if end > start and total + tokens > limits.max_tokens:
                break
            total += tokens
            end += 1
        batches.append(range(start, end))
        start = end
    return batches

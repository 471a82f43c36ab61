"""Split text into overlapping chunks bounded in tokens."""

from __future__ import annotations

from ..exceptions import ConfigurationError

__all__ = ["chunk_text"]


def chunk_text(text: str, *, model: str, max_tokens: int = 400, overlap: int = 50) -> list[str]:
    """Split ``text`` into chunks of at most ``max_tokens`` tokens, each sharing ``overlap``
    tokens with the one before, so a sentence cut at a boundary is whole in one of them.

    A chunk ends at the last line break (else the last space) inside its window when that keeps
    at least half the window, so chunks tend to hold whole paragraphs and words.

    Args:
        text: The text.
        model: The embedding model whose tokenizer measures the chunks.
        max_tokens: Tokens per chunk.
        overlap: Tokens repeated from the end of the previous chunk; less than ``max_tokens``.

    Returns:
        The chunks in order; none for a text that is only whitespace.
    """
    from ..tokens import decode, encode

    if max_tokens < 1 or not 0 <= overlap < max_tokens:
        raise ConfigurationError(
            f"need 0 <= overlap < max_tokens, got max_tokens={max_tokens}, overlap={overlap}."
        )
    if not text.strip():
        return []
    tokens = encode(text, model=model)
    chunks: list[str] = []
    start = 0
    while start < len(tokens):
        end = min(len(tokens), start + max_tokens)
        if end < len(tokens):
            end = _soft_end(tokens, start, end, model)
        piece = decode(tokens[start:end], model=model)
        if piece.strip():
            chunks.append(piece.strip())
        if end >= len(tokens):
            break
        start = max(end - overlap, start + 1)
    return chunks


def _soft_end(tokens: list[int], start: int, end: int, model: str) -> int:
    from ..tokens import decode

    half = start + (end - start) // 2
    pieces = {cut: decode(tokens[cut : cut + 1], model=model) for cut in range(half, end + 1)}
    for cut in range(end, half, -1):  # after a line break
        if pieces[cut - 1].endswith("\n") if cut - 1 in pieces else False:
            return cut
    for cut in range(end, half, -1):  # before a word
        if pieces[cut].startswith((" ", "\n", "\t")):
            return cut
    return end

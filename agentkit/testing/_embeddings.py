"""Deterministic embeddings for the scripted model: a hashed bag of words, so texts that share
words get similar vectors and retrieval tests find what a reader would expect.

Each lower-cased word adds ±1 at two coordinates chosen by its BLAKE2 hash (the "hashing
trick"); the sum is scaled to unit length. A text with no word characters hashes as a whole.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from typing import Any

__all__ = ["embeddings_json", "fake_embedding"]

_WORD = re.compile(r"\w+")


def fake_embedding(text: str, dimensions: int) -> list[float]:
    """The scripted model's vector for ``text``: unit length, ``dimensions`` floats."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()) or [text]:
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=16).digest()
        for offset in (0, 8):
            value = int.from_bytes(digest[offset : offset + 8], "little")
            vector[value % dimensions] += 1.0 if value >> 63 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:  # the words cancelled out: fall back to one coordinate of the whole text
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
        vector[int.from_bytes(digest, "little") % dimensions] = 1.0
        norm = 1.0
    return [v / norm for v in vector]


def embeddings_json(body: dict[str, Any]) -> dict[str, Any]:
    """The ``/embeddings`` reply to a request body, as the API sends it (base64 when asked)."""
    from ..models import model_info

    model = str(body.get("model", ""))
    info = model_info(model, None)
    dimensions = int(body.get("dimensions") or (info.embedding_dimensions if info else None) or 1536)
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
    data = []
    for index, text in enumerate(texts):
        vector = fake_embedding(str(text), dimensions)
        embedding: Any = vector
        if body.get("encoding_format") == "base64":
            embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(len(_WORD.findall(str(t))) or 1 for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }

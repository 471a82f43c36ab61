"""``Embedder``: texts to float32 vectors through any OpenAI-compatible ``/embeddings`` endpoint."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .._client import DefaultClients, resolve_client
from ..exceptions import ConfigurationError, EmbeddingError, EmbeddingInputError
from ._packing import Limits, pack, upper_bound

if TYPE_CHECKING:
    import numpy as np
    from openai import AsyncOpenAI

__all__ = ["Embedder", "LongInputs"]

logger = logging.getLogger("agentkit.embeddings")

LongInputs = Literal["error", "truncate", "average"]
"""What ``Embedder`` does with a text longer than the model's input limit.

- ``"error"``: raise ``EmbeddingInputError`` before anything is sent (the default).
- ``"truncate"``: embed the first ``limit`` tokens only.
- ``"average"``: split it into pieces of at most ``limit`` tokens, embed each, and return their
  mean weighted by piece length, scaled to unit length (OpenAI cookbook, "Embedding texts that
  are longer than the model's maximum context length", read 2026-11).
"""


def _require_numpy() -> None:
    try:
        import numpy  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "agentkit.embeddings needs numpy: pip install 'agentkit-openai[embeddings]'"
        ) from exc


_LIMITS = Limits()


def _supports_dimensions(model: str) -> bool:
    # The text-embedding-3 models take ``dimensions``; ada-002 has a fixed size (OpenAI,
    # "New embedding models and API updates", 2024-01-25). Other servers' models are trusted.
    return model != "text-embedding-ada-002"


class Embedder:
    """Turn texts into vectors, packing requests to the API's limits and caching results.

    Example::

        embedder = Embedder("text-embedding-3-small", dimensions=256)
        vectors = await embedder.embed(["first text", "second text"])   # shape (2, 256)

    Requests hold at most 2,048 inputs and 300,000 tokens, counted offline with the model's
    tokenizer (``agentkit.tokens``); up to ``max_concurrency`` of them are in flight at once.
    Vectors come back as base64 (``encoding_format="base64"``: a quarter of the bytes of JSON
    floats) and are decoded with NumPy. Errors of the ``openai`` SDK (rate limits after its
    retries, a 404 for a model the server does not have) pass through unchanged.

    Args:
        model: An embedding model known to ``agentkit.models.model_info`` (register a
            self-hosted one with ``register_model(ModelInfo(..., kind="embedding"))``).
        dimensions: Shorter vectors (text-embedding-3 models only); ``None`` for the model's size.
        client: The ``AsyncOpenAI`` client; ``None`` uses the same client an ``Agent`` would
            (``OPENAI_API_KEY``/``OPENAI_BASE_URL``, or the test kit's scripted model or cassette).
        max_concurrency: Requests in flight at once.
        long_inputs: See :data:`LongInputs`.
        cache_size: Vectors kept in memory by (model, dimensions, text hash); 0 turns it off.

    Raises:
        UnknownModelError: ``model`` is not in the model table.
        ConfigurationError: ``model`` is not an embedding model, or ``dimensions`` is not
            supported, or numpy is missing.
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        dimensions: int | None = None,
        client: AsyncOpenAI | None = None,
        *,
        max_concurrency: int = 4,
        long_inputs: LongInputs = "error",
        cache_size: int = 10_000,
        limits: Limits = _LIMITS,
    ) -> None:
        from ..models import model_info

        _require_numpy()
        info = model_info(model)
        if info.kind != "embedding":
            raise ConfigurationError(f"{model!r} is a {info.kind} model, not an embedding model.")
        if dimensions is not None:
            native = info.embedding_dimensions
            if not _supports_dimensions(info.name):
                raise ConfigurationError(
                    f"{model!r} has a fixed size ({native}); it does not take dimensions=."
                )
            if isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1:
                raise ConfigurationError(f"dimensions must be a positive integer, not {dimensions!r}.")
            if native is not None and dimensions > native:
                raise ConfigurationError(
                    f"{model!r} makes vectors of at most {native} dimensions, not {dimensions}."
                )
        if long_inputs not in ("error", "truncate", "average"):
            raise ConfigurationError(
                f"long_inputs must be 'error', 'truncate' or 'average', not {long_inputs!r}."
            )
        if max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be at least 1.")
        self.model = model
        """The model name sent to the API."""
        self.dimensions: int | None = dimensions or info.embedding_dimensions
        """The length of the vectors (``None`` when neither given nor known from the model table)."""
        self.client = client
        self.max_concurrency = max_concurrency
        self.long_inputs: LongInputs = long_inputs
        self.cache_size = cache_size
        self.limits = limits
        self.max_input_tokens = info.context_window
        """Tokens one input may have (8,191 for OpenAI's embedding models)."""
        self.usage_tokens = 0
        """Input tokens billed so far, as reported by the server."""
        self.requests = 0
        """Requests sent so far."""
        self._send_dimensions = dimensions
        self._defaults = DefaultClients()
        self._cache: OrderedDict[bytes, np.ndarray[Any, Any]] = OrderedDict()
        self._key_prefix = f"{model}\x00{dimensions}\x00".encode()

    def __repr__(self) -> str:
        return f"Embedder({self.model!r}, dimensions={self.dimensions})"

    async def aclose(self) -> None:
        """Close the default client this embedder built on the running loop (never ``client=``).

        A default client is also closed when its event loop shuts down (``asyncio.run``).
        """
        await self._defaults.aclose()

    async def __aenter__(self) -> Embedder:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _key(self, text: str) -> bytes:
        return hashlib.blake2b(self._key_prefix + text.encode("utf-8"), digest_size=16).digest()

    def _count(self, text: str) -> int:
        from ..tokens import count_text

        return count_text(text, model=self.model)

    async def embed_one(self, text: str) -> np.ndarray[Any, Any]:
        """Embed one text; a float32 vector of shape ``(dimensions,)``."""
        matrix = await self.embed([text])
        vector: np.ndarray[Any, Any] = matrix[0]
        return vector

    async def embed(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Embed ``texts``; a float32 array of shape ``(len(texts), dimensions)`` in input order.

        Raises:
            EmbeddingInputError: A text is empty, not a string, or (with ``long_inputs="error"``)
                longer than the model's input limit; nothing was sent.
            EmbeddingError: The server's reply has the wrong number or length of vectors.
        """
        import numpy as np

        texts = _checked(texts)
        if not texts:
            return np.zeros((0, self.dimensions or 0), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        found: dict[bytes, np.ndarray[Any, Any]] = {}
        missing: dict[bytes, tuple[str, int]] = {}
        for i, (key, text) in enumerate(zip(keys, texts, strict=True)):
            if key in self._cache:
                self._cache.move_to_end(key)
                found[key] = self._cache[key]
            elif key not in missing:
                missing[key] = (text, i)
        if missing:
            fresh = await self._embed_uncached(
                [t for t, _ in missing.values()], [i for _, i in missing.values()]
            )
            for key, vector in zip(missing, fresh, strict=True):
                found[key] = vector
                self._remember(key, vector)
        rows = [found[key] for key in keys]
        return np.stack(rows).astype(np.float32, copy=False)

    def _remember(self, key: bytes, vector: np.ndarray[Any, Any]) -> None:
        if self.cache_size <= 0:
            return
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def _embed_uncached(self, texts: list[str], positions: list[int]) -> list[np.ndarray[Any, Any]]:
        import numpy as np

        # Each text becomes one or more inputs (several only with long_inputs="average").
        inputs: list[str] = []
        owners: list[tuple[int, int]] = []  # (start, stop) into inputs, per text
        weights: list[int] = []
        limit = self.max_input_tokens
        for text, position in zip(texts, positions, strict=True):
            pieces = [text]
            piece_tokens = [0]
            if upper_bound(text) > limit and (tokens := self._count(text)) > limit:
                pieces, piece_tokens = self._split_long(text, tokens, position)
            owners.append((len(inputs), len(inputs) + len(pieces)))
            inputs += pieces
            weights += piece_tokens
        batches = pack(inputs, self._count, self.limits)
        client = resolve_client(self.client, self._defaults)
        semaphore = asyncio.Semaphore(self.max_concurrency)
        results = await _gather([self._request(client, semaphore, [inputs[i] for i in b]) for b in batches])
        vectors = [v for batch in results for v in batch]
        out = []
        for start, stop in owners:
            if stop - start == 1:
                out.append(vectors[start])
            else:
                mean = np.average(np.stack(vectors[start:stop]), axis=0, weights=weights[start:stop])
                out.append((mean / np.linalg.norm(mean)).astype(np.float32))
        return out

    def _split_long(self, text: str, tokens: int, position: int) -> tuple[list[str], list[int]]:
        from ..tokens import decode, encode

        limit = self.max_input_tokens
        if self.long_inputs == "error":
            raise EmbeddingInputError(
                f"input {position} is {tokens} tokens; {self.model} takes at most {limit}. Split it "
                "(agentkit index chunks files), or pass long_inputs='truncate' or 'average'.",
                index=position,
                tokens=tokens,
                limit=limit,
            )
        ids = encode(text, model=self.model)
        if self.long_inputs == "truncate":
            return [decode(ids[:limit], model=self.model)], [limit]
        chunks = [ids[i : i + limit] for i in range(0, len(ids), limit)]
        return [decode(c, model=self.model) for c in chunks], [len(c) for c in chunks]

    async def _request(
        self, client: AsyncOpenAI, semaphore: asyncio.Semaphore, batch: list[str]
    ) -> list[np.ndarray[Any, Any]]:
        import numpy as np

        body: dict[str, Any] = {"model": self.model, "input": batch, "encoding_format": "base64"}
        if self._send_dimensions is not None:
            body["dimensions"] = self._send_dimensions
        async with semaphore:
            # The SDK's documented way to call an endpoint raw: retries, auth and error mapping
            # stay, while its per-field request transform and response models, which cost 3x
            # the request itself for 2,048 inputs (benchmarks/bench_embeddings.py), are skipped.
            raw = await client.post("/embeddings", body=body, cast_to=bytes)
        self.requests += 1
        try:
            reply = json.loads(raw)
            data = sorted(reply["data"], key=lambda d: d["index"])
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError(f"the embeddings reply is not the API's format: {exc}") from exc
        usage = reply.get("usage") or {}
        self.usage_tokens += int(usage.get("prompt_tokens") or 0)
        if len(data) != len(batch) or [d["index"] for d in data] != list(range(len(batch))):
            raise EmbeddingError(f"sent {len(batch)} inputs, the server returned {len(data)} vectors.")
        vectors = []
        for item in data:
            embedding: Any = item.get("embedding")
            try:
                if isinstance(embedding, str):
                    vector = np.frombuffer(base64.b64decode(embedding), dtype="<f4")
                else:  # a server that ignores encoding_format sends JSON floats
                    vector = np.asarray(embedding, dtype=np.float32)
            except (ValueError, TypeError) as exc:
                raise EmbeddingError(f"the server returned an undecodable vector: {exc}") from exc
            if self.dimensions is None:
                self.dimensions = len(vector)
            if len(vector) != self.dimensions:
                raise EmbeddingError(
                    f"the server returned a {len(vector)}-dimensional vector; expected {self.dimensions}."
                )
            vectors.append(vector)
        return vectors


def _checked(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise EmbeddingInputError("embed() takes a list of texts; use embed_one() for one text.", index=0)
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise EmbeddingInputError(f"input {i} is a {type(text).__name__}, not a string.", index=i)
        if not text:
            raise EmbeddingInputError(f"input {i} is an empty string; the API rejects empty inputs.", index=i)
    return texts


async def _gather(awaitables: Sequence[Awaitable[Any]]) -> list[Any]:
    """Await all, in order; on the first failure cancel the rest and re-raise it."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

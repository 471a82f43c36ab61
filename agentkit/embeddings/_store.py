"""What every vector store shares: the ``VectorStore`` protocol, hits, and input checks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..exceptions import DimensionMismatchError, EmbeddingModelMismatchError, VectorStoreError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ._embedder import Embedder

__all__ = ["Document", "Filter", "Hit", "VectorStore"]

Filter = Mapping[str, Any]
"""A metadata filter: ``{"source": "a.md"}`` keeps hits whose ``metadata["source"] == "a.md"``; a
list value keeps any of its values (``{"lang": ["en", "fr"]}``); several keys must all match.
Values are JSON scalars (str, int, float, bool, None)."""

_KEY = re.compile(r"[A-Za-z0-9_\-]{1,64}")


@dataclass(frozen=True)
class Document:
    """One stored passage."""

    id: str
    """The id it was added with."""
    text: str
    """The passage."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """What was stored with it (JSON object), e.g. ``{"source": "docs/a.md"}``."""


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    """The stored id."""
    score: float
    """Cosine similarity with the query, in ``[-1, 1]``; higher is nearer."""
    text: str
    """The stored passage."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """The stored metadata."""


@runtime_checkable
class VectorStore(Protocol):
    """A store of (id, vector, text, metadata) rows searched by cosine similarity.

    A store records the embedding model and dimensions it was built with (``model``,
    ``dimensions``); writing or searching with another raises ``EmbeddingModelMismatchError``.
    Vectors are ``float32`` arrays of shape ``(n, dimensions)``; when ``vectors`` is omitted the
    store embeds ``texts`` with its ``embedder``.
    """

    @property
    def model(self) -> str | None:
        """The embedding model the store was built with (``None`` while it is empty and unset)."""
        ...

    @property
    def dimensions(self) -> int | None:
        """Length of its vectors (``None`` while it is empty and unset)."""
        ...

    async def add(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        vectors: npt.ArrayLike | None = None,
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Insert new rows; an id that already exists raises ``VectorStoreError``."""
        ...

    async def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        vectors: npt.ArrayLike | None = None,
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Insert rows, replacing any with the same id."""
        ...

    async def search(
        self, query: str | npt.ArrayLike, *, k: int = 10, filter: Filter | None = None
    ) -> list[Hit]:
        """The ``k`` rows nearest to ``query`` (a text, embedded by the store's embedder, or a
        vector), best first, among those matching ``filter``."""
        ...

    async def get(self, ids: Sequence[str]) -> dict[str, Document]:
        """The stored rows for those of ``ids`` that exist."""
        ...

    async def delete(self, ids: Sequence[str] | None = None, *, filter: Filter | None = None) -> int:
        """Delete rows by id, or every row matching ``filter``; return how many were deleted."""
        ...

    async def count(self, filter: Filter | None = None) -> int:
        """How many rows (matching ``filter``) the store holds."""
        ...

    async def aclose(self) -> None:
        """Release the connection; any later call raises ``StoreClosedError``."""
        ...


# --- checks shared by the stores ---


def check_rows(
    ids: Sequence[str],
    texts: Sequence[str],
    vectors: npt.ArrayLike | None,
    metadata: Sequence[Mapping[str, Any]] | None,
) -> tuple[list[str], list[str], list[str]]:
    """Validate a batch; return ids, texts and metadata as JSON text."""
    if isinstance(ids, str) or isinstance(texts, str):
        raise VectorStoreError("ids and texts must be sequences of strings, not a single string.")
    ids, texts = list(ids), list(texts)
    if len(ids) != len(texts):
        raise VectorStoreError(f"{len(ids)} ids but {len(texts)} texts.")
    if len(set(ids)) != len(ids):
        raise VectorStoreError("ids repeat within one batch.")
    if bad_ids := [i for i in ids if not isinstance(i, str) or not i]:
        raise VectorStoreError(f"an id must be a non-empty string, not {bad_ids[0]!r}.")
    if bad_texts := [t for t in texts if not isinstance(t, str)]:
        raise VectorStoreError(f"a text must be a string, not {type(bad_texts[0]).__name__}.")
    return ids, texts, _metadata_json(metadata, len(ids))


def _metadata_json(metadata: Sequence[Mapping[str, Any]] | None, rows: int) -> list[str]:
    if metadata is None:
        return ["{}"] * rows
    metadata = list(metadata)
    if len(metadata) != rows:
        raise VectorStoreError(f"{rows} ids but {len(metadata)} metadata objects.")
    try:
        return [json.dumps(dict(m), ensure_ascii=False, sort_keys=True) for m in metadata]
    except (TypeError, ValueError) as exc:
        raise VectorStoreError(f"metadata must be JSON objects: {exc}") from exc


def as_matrix(vectors: npt.ArrayLike, rows: int, dimensions: int | None) -> np.ndarray[Any, Any]:
    """``vectors`` as a C-contiguous float32 matrix of unit rows, shape ``(rows, dimensions)``.

    Raises:
        DimensionMismatchError: A vector's length is not ``dimensions``.
        VectorStoreError: The shape is wrong, or a vector is zero or not finite.
    """
    import numpy as np

    try:
        matrix = np.array(vectors, dtype=np.float32, ndmin=2)
    except (TypeError, ValueError) as exc:
        raise VectorStoreError(f"vectors must be numbers: {exc}") from exc
    if matrix.ndim != 2 or matrix.shape[0] != rows:
        raise VectorStoreError(f"expected {rows} vectors, got an array of shape {matrix.shape}.")
    if dimensions is not None and matrix.shape[1] != dimensions:
        raise DimensionMismatchError(
            f"the store holds {dimensions}-dimensional vectors; got {matrix.shape[1]}.",
            expected=dimensions,
            got=int(matrix.shape[1]),
        )
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if rows and (not np.all(np.isfinite(norms)) or np.any(norms == 0)):
        raise VectorStoreError("a vector is zero or not finite; cosine similarity needs a direction.")
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


def check_filter(filter: Filter | None) -> list[tuple[str, list[Any]]]:
    """Validate a metadata filter; return ``(key, allowed values)`` pairs."""
    if not filter:
        return []
    if not isinstance(filter, Mapping):
        raise VectorStoreError(f"filter must be a mapping of metadata keys to values, not {filter!r}.")
    out = []
    for key, value in filter.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise VectorStoreError(f"filter keys are letters, digits, '_' and '-'; got {key!r}.")
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        for v in values:
            if v is not None and not isinstance(v, (str, int, float, bool)):
                raise VectorStoreError(f"filter values are JSON scalars; got {v!r} for {key!r}.")
        out.append((key, values))
    return out


def check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise VectorStoreError(f"k must be a positive integer, not {k!r}.")
    return k


def check_identity(
    where: str, stored: tuple[str, int] | None, model: str | None, dimensions: int | None
) -> None:
    """Raise if a store built with ``stored`` = (model, dimensions) is used with another model."""
    if stored is None:
        return
    if model is not None and model != stored[0]:
        raise EmbeddingModelMismatchError(
            f"{where} was built with {stored[0]!r} ({stored[1]} dimensions); it cannot be used with "
            f"{model!r}. Vectors of different models are not comparable: use another store, or re-index."
        )
    if dimensions is not None and dimensions != stored[1]:
        raise EmbeddingModelMismatchError(
            f"{where} was built with {stored[0]!r} at {stored[1]} dimensions; it cannot be used at "
            f"{dimensions} dimensions. Use another store, or re-index."
        )


async def query_vector(
    where: str,
    query: str | npt.ArrayLike,
    embedder: Embedder | None,
    stored: tuple[str, int] | None,
) -> np.ndarray[Any, Any]:
    """The unit query vector: ``query`` itself, or ``query`` embedded by ``embedder``."""
    if isinstance(query, str):
        if embedder is None:
            raise VectorStoreError(
                f"{where} has no embedder to turn the text query into a vector: pass embedder= "
                "when opening the store, or search with a vector."
            )
        check_identity(where, stored, embedder.model, embedder.dimensions)
        vector: npt.ArrayLike = await embedder.embed_one(query)
    else:
        vector = query
    unit: np.ndarray[Any, Any] = as_matrix(vector, 1, stored[1] if stored else None)[0]
    return unit


@dataclass(frozen=True)
class Batch:
    """A checked batch of rows, ready to write."""

    ids: list[str]
    texts: list[str]
    metadata: list[str]
    """Each row's metadata as JSON text."""
    matrix: np.ndarray[Any, Any]
    """Unit float32 vectors, shape ``(len(ids), dimensions)``."""
    identity: tuple[str, int]
    """The (model, dimensions) the vectors come from."""


async def prepare_batch(
    where: str,
    stored: tuple[str, int] | None,
    wanted: tuple[str | None, int | None],
    embedder: Embedder | None,
    rows: tuple[Sequence[str], Sequence[str], npt.ArrayLike | None, Sequence[Mapping[str, Any]] | None],
) -> Batch | None:
    """Check a write and embed its texts when no vectors are given; ``None`` for no rows.

    Args:
        where: The store, for messages.
        stored: The store's recorded (model, dimensions), if any.
        wanted: The (model, dimensions) the store was opened with.
        embedder: The store's embedder.
        rows: ``(ids, texts, vectors, metadata)`` as passed to ``add``/``upsert``.
    """
    ids, texts, vectors, metadata = rows
    id_list, text_list, metas = check_rows(ids, texts, vectors, metadata)
    if not id_list:
        return None
    model = stored[0] if stored else wanted[0]
    if vectors is None:
        if embedder is None:
            raise VectorStoreError(f"{where} has no embedder: pass vectors=, or embedder= to open it.")
        check_identity(where, stored, embedder.model, embedder.dimensions)
        vectors = await embedder.embed(text_list)
        model = embedder.model
    if model is None:
        raise VectorStoreError(
            f"{where} does not know which model made these vectors: pass model= or embedder=."
        )
    matrix = as_matrix(vectors, len(id_list), stored[1] if stored else wanted[1])
    identity = (model, int(matrix.shape[1]))
    check_identity(where, stored, *identity)
    return Batch(id_list, text_list, metas, matrix, identity)

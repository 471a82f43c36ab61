"""``retrieval_tool``: a vector store search the agent can call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, Field

from .. import Tool, ToolRetry, tool
from ..exceptions import EmbeddingModelMismatchError

if TYPE_CHECKING:
    from ._embedder import Embedder
    from ._store import Hit, VectorStore

__all__ = ["MetadataFilter", "format_hits", "retrieval_tool"]

DEFAULT_DESCRIPTION = (
    "Search the document collection for passages relevant to a query. Returns the best passages, "
    "each with its source; cite the sources you use."
)


class MetadataFilter(BaseModel):
    """One condition on a passage's metadata."""

    key: str = Field(description='The metadata field, e.g. "source".')
    value: str = Field(description="The value it must have.")


def format_hits(hits: list[Hit]) -> str:
    """Hits as numbered passages with their sources, for the model to read and cite."""
    if not hits:
        return "No matching passages."
    blocks = []
    for n, hit in enumerate(hits, 1):
        source = hit.metadata.get("source", hit.id)
        blocks.append(f"[{n}] source: {source} (id: {hit.id}, score: {hit.score:.3f})\n{hit.text}")
    return "\n\n".join(blocks)


def _check(store: VectorStore, embedder: Embedder) -> None:
    if store.model is not None and store.model != embedder.model:
        raise EmbeddingModelMismatchError(
            f"{store!r} was built with {store.model!r}; the embedder is {embedder.model!r}."
        )
    if (
        store.dimensions is not None
        and embedder.dimensions is not None
        and store.dimensions != embedder.dimensions
    ):
        raise EmbeddingModelMismatchError(
            f"{store!r} holds {store.dimensions} dimensions; the embedder makes {embedder.dimensions}."
        )


def retrieval_tool(
    store: VectorStore,
    embedder: Embedder,
    k: int = 5,
    name: str = "search_documents",
    description: str = DEFAULT_DESCRIPTION,
) -> Tool[..., str]:
    """A tool that searches ``store`` for the model and returns passages with their sources.

    The model calls it with a ``query`` and optional ``filters`` on metadata (all must hold,
    e.g. ``[{"key": "source", "value": "guide.md"}]``). The query is embedded with
    ``embedder``; the ``k`` best passages come back as numbered text blocks naming their
    ``source`` (metadata) and id, so the final answer can cite them.

    Args:
        store: Any :class:`VectorStore`.
        embedder: The embedder the store was built with.
        k: Passages per search.
        name: The tool name the model sees.
        description: The tool description the model sees.

    Raises:
        EmbeddingModelMismatchError: The store was built with another model or size (checked
            now when the store knows it, else on each call).
    """
    _check(store, embedder)

    async def search(query: str, filters: list[MetadataFilter] | None = None) -> str:
        """Search the documents.

        Args:
            query: What to look for, in words.
            filters: Conditions on metadata that every passage must meet; null for none.
        """
        if not query.strip():
            raise ToolRetry("The query is empty: say what to look for.")
        _check(store, embedder)
        vector = await embedder.embed_one(query)
        conditions: dict[str, Any] = {}
        for f in filters or ():
            conditions.setdefault(f.key, []).append(f.value)
        hits = await store.search(vector, k=k, filter=conditions or None)
        return format_hits(hits)

    built = tool(name=name, description=description)(search)
    return cast("Tool[..., str]", built)

"""Embeddings, vector stores and retrieval: from text to a tool the agent can search with.

``Embedder`` turns texts into vectors through any OpenAI-compatible ``/embeddings`` endpoint;
``SQLiteVectorStore`` (one file, sqlite-vec) and ``PgVectorStore`` (Postgres with pgvector, an
HNSW index) store and search them by cosine similarity; ``retrieval_tool`` hands the search to an
agent as a tool. Install with ``pip install 'agentkit-openai[embeddings]'``.

    embedder = Embedder("text-embedding-3-small", dimensions=256)
    store = SQLiteVectorStore("vectors.sqlite3", embedder=embedder)
    await store.upsert(["a#0"], ["Paris is the capital of France."], metadata=[{"source": "a.md"}])
    agent = Agent(tools=[retrieval_tool(store, embedder)])

The command line indexes files and searches them: ``agentkit index docs/ --store
sqlite:///vectors.sqlite3`` and ``agentkit search "capital of France" --store ...``.
"""

from __future__ import annotations

from ._chunk import chunk_text
from ._embedder import Embedder, LongInputs
from ._packing import Limits
from ._postgres import PgVectorStore
from ._retrieval import retrieval_tool
from ._sqlite import SQLiteVectorStore
from ._store import Document, Filter, Hit, VectorStore
from ._url import open_store

__all__ = [
    "Document",
    "Embedder",
    "Filter",
    "Hit",
    "Limits",
    "LongInputs",
    "PgVectorStore",
    "SQLiteVectorStore",
    "VectorStore",
    "chunk_text",
    "open_store",
    "retrieval_tool",
]

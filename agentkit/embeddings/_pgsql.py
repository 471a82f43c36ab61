"""The SQL of ``PgVectorStore``: registry table, metadata filters, the HNSW index."""

from __future__ import annotations

import json
import re
from typing import Any

from ..exceptions import ConfigurationError

__all__ = ["IDENTIFIER", "REGISTRY", "distance_sql", "import_drivers", "index_ddl", "metadata_where"]

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")
"""A store or schema name: a plain SQL identifier, short enough for the derived names."""

HNSW_MAX_VECTOR = 2000
"""pgvector's largest indexable ``vector`` (pgvector README, "HNSW", read 2026-11); above it the
index is built on a ``halfvec`` cast (up to 4,000 dimensions)."""

REGISTRY = """
CREATE TABLE IF NOT EXISTS {s}.vector_stores (
    name text PRIMARY KEY,
    model text NOT NULL,
    dimensions integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


def import_drivers() -> tuple[Any, Any]:
    """``psycopg`` and ``pgvector.psycopg``, or an error naming the extra."""
    try:
        import pgvector.psycopg
        import psycopg
    except ImportError as exc:
        raise ConfigurationError(
            "PgVectorStore needs psycopg 3 and pgvector: pip install 'agentkit-openai[embeddings]'"
        ) from exc
    return psycopg, pgvector.psycopg


def metadata_where(filters: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    """A WHERE clause (``jsonb`` containment) and its parameters for checked filters."""
    clauses, params = [], []
    for key, values in filters:
        clauses.append("(" + " OR ".join(["metadata @> %s::jsonb"] * len(values)) + ")")
        params += [json.dumps({key: v}) for v in values]
    return (" AND ".join(clauses) or "true"), params


def index_ddl(table: str, name: str, dimensions: int, m: int, ef_construction: int) -> str:
    """``CREATE INDEX`` for the HNSW index on unit vectors (inner product)."""
    if dimensions <= HNSW_MAX_VECTOR:
        column, ops = "embedding", "vector_ip_ops"
    else:
        column, ops = f"(embedding::halfvec({dimensions}))", "halfvec_ip_ops"
    return (
        f'CREATE INDEX IF NOT EXISTS "{name}" ON {table} USING hnsw ({column} {ops}) '
        f"WITH (m = {m}, ef_construction = {ef_construction})"
    )


def distance_sql(dimensions: int, hnsw: bool) -> str:
    """The ORDER BY expression, written as the index is, so that Postgres can use it."""
    if hnsw and dimensions > HNSW_MAX_VECTOR:
        return f"(embedding::halfvec({dimensions}) <#> %s::halfvec({dimensions}))"
    return "(embedding <#> %s)"

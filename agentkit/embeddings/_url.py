"""Open a vector store from a URL: ``sqlite:///path`` or ``postgresql://...``."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..exceptions import ConfigurationError
from ._postgres import PgVectorStore
from ._sqlite import SQLiteVectorStore

if TYPE_CHECKING:
    from ._embedder import Embedder
    from ._store import VectorStore

__all__ = ["open_store"]


def sqlite_path(url: str) -> str | None:
    """The file a SQLite store URL names, or ``None`` for a Postgres URL.

    Raises:
        ConfigurationError: A malformed SQLite URL or an unknown scheme.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("postgresql", "postgres"):
        return None
    if scheme == "sqlite":
        if parts.netloc:
            raise ConfigurationError(
                f"write a SQLite URL as sqlite:///relative/path or sqlite:////absolute/path, not {url!r}."
            )
        path = url.split("://", 1)[1][1:]
        if not path:
            raise ConfigurationError(f"{url!r} names no file: sqlite:///vectors.sqlite3.")
        return path
    if scheme and len(scheme) > 1:  # one letter is a Windows drive
        raise ConfigurationError(
            f"unknown store URL scheme {scheme!r}: use sqlite:///path or postgresql://..."
        )
    return url


def open_store(url: str, *, embedder: Embedder | None = None) -> VectorStore:
    """Open the vector store a URL names.

    Forms:

    - ``sqlite:///vectors.sqlite3`` (relative path), ``sqlite:////srv/data/vectors.sqlite3``
      (absolute), ``sqlite:///:memory:``; a bare path is a SQLite file too.
    - ``postgresql://user@host:5432/db?name=docs&schema=agentkit`` (``postgres://`` too);
      ``name`` (default ``default``) and ``schema`` (default ``agentkit``) pick the store and
      are removed before the rest is handed to libpq.

    Raises:
        ConfigurationError: An unknown scheme, or a missing extra.
    """
    path = sqlite_path(url)
    if path is not None:
        return SQLiteVectorStore(path, embedder=embedder)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    name = query.pop("name", "default")
    schema = query.pop("schema", "agentkit")
    dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
    return PgVectorStore(dsn, name, schema=schema, embedder=embedder)

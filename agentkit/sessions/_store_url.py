"""``--store URL``: one way for every ``agentkit`` subcommand to name a session store.

=====================================  ==========================================
URL                                    store
=====================================  ==========================================
``sqlite:///relative/path.sqlite3``    ``SQLiteSession`` on that file (SQLAlchemy's
``sqlite:////absolute/path.sqlite3``   convention: a fourth slash starts an
``path.sqlite3`` (no scheme)           absolute path)
``postgresql://user@host:port/db``     ``PostgresSession`` (also ``postgres://``)
``redis://host:port/db``               ``RedisSession`` (also ``rediss://``)
=====================================  ==========================================
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from dataclasses import dataclass
from typing import Any, Literal

from ._sqlite import DEFAULT_PATH, SQLiteSession

__all__ = ["StoreURL", "add_store_arguments", "driver_errors", "open_session", "parse_store_url"]

_SCHEMES: dict[str, Literal["postgres", "redis"]] = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "redis": "redis",
    "rediss": "redis",
}


@dataclass(frozen=True)
class StoreURL:
    """A parsed ``--store`` value."""

    kind: Literal["sqlite", "postgres", "redis"]
    """Which backend opens it."""
    location: str
    """The SQLite file's path, or the Postgres DSN / Redis URL as given."""


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--store URL`` and its alias ``--path FILE`` (a SQLite file) to ``parser``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--store",
        metavar="URL",
        help=f"sqlite:///path/to/file, postgresql://user@host/db or redis://host/db "
        f"(default: sqlite:///{DEFAULT_PATH})",
    )
    group.add_argument("--path", metavar="FILE", help="a SQLite file; the same as --store sqlite:///FILE")


def parse_store_url(store: str | None, path: str | None = None) -> StoreURL:
    """Parse ``--store`` (or its alias ``--path``); neither means the default SQLite file.

    Raises:
        ValueError: the URL's scheme names no store agentkit has.
    """
    if path is not None:
        return StoreURL("sqlite", path)
    if store is None:
        return StoreURL("sqlite", DEFAULT_PATH)
    scheme, sep, rest = store.partition("://")
    if not sep:
        return StoreURL("sqlite", store)
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ValueError(f"{store!r}: write a SQLite store as sqlite:///path/to/file.sqlite3")
        return StoreURL("sqlite", rest[1:])
    if scheme.lower() in _SCHEMES:
        return StoreURL(_SCHEMES[scheme.lower()], store)
    raise ValueError(
        f"{store!r}: unknown store {scheme!r}; use sqlite:///path, postgresql://... or redis://..."
    )


def open_session(store: StoreURL, session_id: str) -> Any:
    """Open ``session_id`` in ``store`` (the server drivers are imported only here).

    Raises:
        ConfigurationError: the store's driver is not installed (the message names the extra).
    """
    if store.kind == "postgres":
        from ._postgres import PostgresSession

        return PostgresSession(session_id, store.location)
    if store.kind == "redis":
        from ._redis import RedisSession

        return RedisSession(session_id, store.location)
    return SQLiteSession(session_id, store.location)


def driver_errors() -> tuple[type[BaseException], ...]:
    """The base error classes of the store drivers that are loaded (connection refused, bad DSN)."""
    errors: list[type[BaseException]] = [sqlite3.Error]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    redis_exceptions = sys.modules.get("redis.exceptions")
    if redis_exceptions is not None:
        errors.append(redis_exceptions.RedisError)
    return tuple(errors)

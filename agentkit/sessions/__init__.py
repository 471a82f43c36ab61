"""Persisted threads: a conversation that outlives the process, journaled item by item.

``SQLiteSession`` is the embedded default; ``PostgresSession`` and ``RedisSession`` let several
worker processes or machines share a thread; ``MemorySession`` is for tests. Any object with the
members of ``Session`` works with ``Agent.run(..., session=...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._session import Session
from ._definitions import AgentDefinition, DefinitionStore, ToolRegistry
from ._memory import MemorySession, MemoryStore
from ._sqlite import SQLiteSession

if TYPE_CHECKING:
    from ._postgres import PostgresSession
    from ._redis import RedisSession

__all__ = [
    "AgentDefinition",
    "DefinitionStore",
    "MemorySession",
    "MemoryStore",
    "PostgresSession",
    "RedisSession",
    "SQLiteSession",
    "Session",
    "ToolRegistry",
]


def __getattr__(name: str) -> Any:
    # The server backends load on first use; their drivers are optional extras.
    if name == "PostgresSession":
        from ._postgres import PostgresSession

        return PostgresSession
    if name == "RedisSession":
        from ._redis import RedisSession

        return RedisSession
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

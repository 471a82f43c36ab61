"""``MemorySession``: threads in a dict, for tests and short-lived scripts."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ._codec import acquire_polling, encode_items
from ._definitions import AgentDefinition


@dataclass
class MemoryStore:
    """The shared state of every ``MemorySession`` created with the same store."""

    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Items per thread id."""
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Saved agent definitions by name, as JSON objects."""
    held: set[str] = field(default_factory=set)
    """Thread ids a run currently holds."""


class MemorySession:
    """A thread kept in memory; gone when the process ends.

    Args:
        session_id: The thread's id.
        store: Share one ``MemoryStore`` between sessions to see each other's threads; each
            session gets its own store otherwise.
        lock_timeout: Seconds ``lock()`` waits for another run on this thread before
            ``SessionBusyError`` (0: fail at once).
    """

    def __init__(
        self, session_id: str, *, store: MemoryStore | None = None, lock_timeout: float = 0.0
    ) -> None:
        self.session_id = session_id
        self.store = store if store is not None else MemoryStore()
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"MemorySession({self.session_id!r})"

    async def load(self) -> list[dict[str, Any]]:
        """Return copies of every item of this thread, oldest first."""
        return copy.deepcopy(self.store.threads.get(self.session_id, []))

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        """Store copies of ``items`` after the existing ones (all or nothing)."""
        # A JSON round trip: what is stored is exactly what the other backends would store.
        decoded = [json.loads(raw) for raw in encode_items(items)]
        if decoded:
            self.store.threads.setdefault(self.session_id, []).extend(decoded)

    async def clear(self) -> None:
        """Delete every item of this thread."""
        self.store.threads.pop(self.session_id, None)

    async def list_sessions(self) -> list[str]:
        """Return the ids of all non-empty threads in the store."""
        return sorted(k for k, v in self.store.threads.items() if v)

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold this thread for one run (within this process only)."""
        return self._lock()

    @asynccontextmanager
    async def _lock(self) -> AsyncIterator[None]:
        held = self.store.held

        async def try_acquire() -> bool:
            if self.session_id in held:
                return False
            held.add(self.session_id)
            return True

        await acquire_polling(try_acquire, timeout=self.lock_timeout, session_id=self.session_id)
        try:
            yield
        finally:
            held.discard(self.session_id)

    async def save_definition(self, definition: AgentDefinition) -> None:
        """Store ``definition`` under its name."""
        self.store.definitions[definition.name] = definition.to_json()

    async def load_definition(self, name: str) -> AgentDefinition:
        """Return the definition saved as ``name`` (``KeyError`` if there is none)."""
        return AgentDefinition.from_json(self.store.definitions[name], where=f"definition {name!r}")

    async def list_definitions(self) -> list[str]:
        """Return the names of every saved definition."""
        return sorted(self.store.definitions)

    async def delete_definition(self, name: str) -> None:
        """Delete the definition saved as ``name``, if any."""
        self.store.definitions.pop(name, None)

"""The ``Session`` protocol the agent loop talks to, and the store for named agent definitions."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._definitions import AgentDefinition


@runtime_checkable
class Session(Protocol):
    """One persisted thread of conversation.

    Items are the API's own JSON objects (Chat Completions messages or Responses items), stored
    as they are. Implement these five members to plug in another store.
    """

    session_id: str
    """The thread's id, e.g. ``"user-42"``."""

    async def load(self) -> list[dict[str, Any]]:
        """Return every stored item of this thread, oldest first."""
        ...

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        """Store ``items`` after the existing ones, in order, in one transaction."""
        ...

    async def clear(self) -> None:
        """Delete every item of this thread."""
        ...

    async def list_sessions(self) -> list[str]:
        """Return the ids of all non-empty threads in the same store, sorted."""
        ...

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold this thread exclusively for one run.

        Raises:
            SessionBusyError: Another run (in this or another process) holds the thread.
        """
        ...


@runtime_checkable
class DefinitionStore(Protocol):
    """Saves named agent definitions; every built-in session class is one."""

    async def save_definition(self, definition: AgentDefinition) -> None:
        """Store ``definition`` under its name, replacing an earlier one."""
        ...

    async def load_definition(self, name: str) -> AgentDefinition:
        """Return the definition saved as ``name``.

        Raises:
            KeyError: No definition has this name.
        """
        ...

    async def list_definitions(self) -> list[str]:
        """Return the names of every saved definition, sorted."""
        ...

    async def delete_definition(self, name: str) -> None:
        """Delete the definition saved as ``name``, if there is one."""
        ...

"""Where a run writes each new history item: the session's store, or nowhere.

The loop always talks to a journal, so it has no ``if session`` branches; without a session the
journal does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._session import Session
from .._wire import ModelAPI
from .dispatch import CallOutcome
from .pending import Waiting, decided_marker, pause_marker


class NullJournal:
    """The journal of a run without a session: it stores nothing."""

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        """Do nothing."""

    async def record(self, outcome: CallOutcome) -> None:
        """Do nothing."""

    async def pause(self, waiting: Sequence[Waiting]) -> None:
        """Do nothing: without a session the caller holds the paused thread (``result.messages``)."""

    async def decided(self, ordinals: Sequence[int]) -> None:
        """Do nothing."""


@dataclass
class SessionJournal:
    """Writes every new item to a session as soon as it exists, so a crash loses at most the
    item in flight."""

    session: Session
    """The thread being journaled."""
    api: ModelAPI
    """Builds the tool-result items."""

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        """Store ``items`` in order."""
        await self.session.append(items)

    async def record(self, outcome: CallOutcome) -> None:
        """Store one tool call's result the moment it is known (completion order)."""
        await self.session.append([self.api.tool_result_item(outcome.call, outcome.content)])

    async def pause(self, waiting: Sequence[Waiting]) -> None:
        """Mark these calls as waiting by design, so loading the thread does not close them."""
        await self.session.append([pause_marker(waiting)])

    async def decided(self, ordinals: Sequence[int]) -> None:
        """Mark these calls as decided: from now on a missing result means a crash."""
        await self.session.append([decided_marker(ordinals)])


Journal = NullJournal | SessionJournal
"""Either journal."""

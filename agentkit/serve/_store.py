"""Where the service keeps its objects: beside the threads, in the same session store.

A thread's transcript is an agentkit session (``SQLiteSession``/``PostgresSession`` with the
thread id as ``session_id``). Everything else the API shows — assistants, thread records,
messages, runs, API keys — is a JSON object in one table, keyed by ``(kind, id)``, with the user
who owns it, the thread it belongs to (``parent``) and an insertion counter (``seq``) that
orders lists. Run events are rows of a second table, numbered per run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..exceptions import ConfigurationError, ServeError, SessionError
from ..sessions import Session

Order = Literal["asc", "desc"]

DEFAULT_STORE = "sqlite:///agentkit_sessions.sqlite3"
"""The store used when none is given: the sessions' default SQLite file."""


@dataclass(frozen=True)
class Record:
    """One object to store."""

    kind: str
    """``"assistant"``, ``"thread"``, ``"message"``, ``"run"`` or ``"api_key"``."""
    id: str
    """Its id, unique per kind."""
    owner: str
    """The user it belongs to."""
    data: dict[str, Any]
    """The JSON object."""
    parent: str = ""
    """The thread it belongs to, for messages and runs."""


@dataclass(frozen=True)
class Page:
    """One page of a list, in the requested order."""

    data: list[dict[str, Any]]
    """The objects."""
    has_more: bool
    """Whether more objects follow in this order."""


class ServeStore(Protocol):
    """The storage the service needs; ``open_store`` returns the SQLite or Postgres one."""

    url: str
    """Where the store lives (the ``--store`` URL, without a password)."""

    def session(self, thread_id: str) -> Session:
        """The agentkit session holding a thread's transcript."""
        ...

    async def save(self, records: Sequence[Record], events: Sequence[tuple[str, int, str]] = ()) -> None:
        """In one transaction: insert objects or replace their data (keeping their place in lists),
        and store ``(run_id, number, encoded event)`` rows (numbers are unique per run)."""
        ...

    async def get(self, kind: str, id: str, owner: str | None) -> dict[str, Any] | None:
        """Return the object, or ``None`` when it is missing or ``owner`` (if given) does not own it."""
        ...

    async def page(
        self,
        kind: str,
        owner: str | None,
        *,
        parent: str = "",
        order: Order = "desc",
        after: str | None = None,
        before: str | None = None,
        limit: int = 20,
    ) -> Page:
        """Return a page of ``owner``'s objects of one kind (under ``parent``), ordered by creation.

        Raises:
            ServeError: ``after`` or ``before`` names no object of this list (400).
        """
        ...

    async def delete(self, kind: str, id: str, owner: str | None) -> bool:
        """Delete one object; return whether it existed (and was ``owner``'s)."""
        ...

    async def delete_children(self, parent: str) -> None:
        """Delete every object whose parent is ``parent`` (a thread's messages and runs)."""
        ...

    async def load_events(self, run_id: str, after: int) -> list[tuple[int, str]]:
        """Return a run's stored events numbered above ``after``, in order."""
        ...

    async def delete_events(self, run_ids: Sequence[str]) -> None:
        """Delete every stored event of these runs."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def open_store(url: str) -> ServeStore:
    """Open the store at a ``--store`` URL, as every ``agentkit`` subcommand reads it.

    ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` (or a bare path), or
    ``postgresql://user@host:port/db``, which may end in ``#schema`` to choose the Postgres
    schema (``agentkit`` by default).

    Raises:
        ConfigurationError: The URL names no store, or a Redis store (the service's objects
            need SQLite or Postgres).
    """
    from ..sessions._store_url import parse_store_url

    location, _, schema = url.partition("#")
    try:
        parsed = parse_store_url(location)
    except ValueError as exc:
        raise ConfigurationError(f"Unsupported store URL {exc}") from exc
    if parsed.kind == "sqlite":
        from ._store_sqlite import SQLiteStore

        return SQLiteStore(parsed.location)
    if parsed.kind == "postgres":
        from ._store_postgres import PostgresStore

        return PostgresStore(parsed.location, schema=schema or "agentkit")
    raise ConfigurationError(
        f"The service keeps its objects in SQLite or Postgres, not Redis ({url!r}); "
        "use sqlite:///path.db or postgresql://user@host:port/db."
    )


@dataclass(frozen=True)
class PageQuery:
    """The SQL of one page, for both SQL stores: look each cursor's ``seq`` up, then select.

    ``ph`` is the driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg).
    """

    kind: str
    owner: str | None
    parent: str
    order: Order
    after: str | None
    before: str | None
    limit: int
    ph: str

    def _where(self) -> tuple[str, list[Any]]:
        where, params = [f"kind = {self.ph}", f"parent = {self.ph}"], [self.kind, self.parent]
        if self.owner is not None:
            where.append(f"owner = {self.ph}")
            params.append(self.owner)
        return " AND ".join(where), params

    def cursors(self, table: str) -> list[tuple[str, str, str, tuple[Any, ...]]]:
        """``(param, cursor, sql, params)`` for each cursor given: the query of its ``seq``."""
        where, params = self._where()
        sql = f"SELECT seq FROM {table} WHERE {where} AND id = {self.ph}"
        return [
            (name, c, sql, (*params, c)) for name, c in (("after", self.after), ("before", self.before)) if c
        ]

    def select(self, table: str, seqs: dict[str, int]) -> tuple[str, tuple[Any, ...]]:
        """The page's query, given the ``seq`` of each cursor (by ``"after"``/``"before"``)."""
        where, params = self._where()
        for name, seq in seqs.items():
            newer = (name == "after") == (self.order == "asc")
            where += f" AND seq {'>' if newer else '<'} {self.ph}"
            params.append(seq)
        direction = "ASC" if self.order == "asc" else "DESC"
        return f"SELECT data FROM {table} WHERE {where} ORDER BY seq {direction} LIMIT {self.ph}", (
            *params,
            self.limit + 1,
        )

    def page(self, data: list[dict[str, Any]]) -> Page:
        """The page from the selected rows (one more than ``limit`` tells there is more)."""
        return Page(data[: self.limit], has_more=len(data) > self.limit)


def cursor_error(name: str, value: str) -> ServeError:
    """The 400 for a pagination cursor that names no object of the list."""
    return ServeError(f"No object with id {value!r} in this list.", param=name, code="invalid_cursor")


class GroupCommit:
    """Writes the saves that arrive while a transaction is committing together, in the next one.

    Under many concurrent runs each save would otherwise pay its own commit (an fsync in
    SQLite's ``synchronous=FULL``); here one commit serves every save queued meanwhile, in the
    order they were made. A failed commit fails every save of its batch.

    Args:
        write: Stores a batch of records and events in one transaction.
    """

    def __init__(self, write: Callable[[list[Record], list[tuple[str, int, str]]], Awaitable[None]]) -> None:
        self._write = write
        self._queue: list[tuple[Sequence[Record], Sequence[tuple[str, int, str]], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def save(self, records: Sequence[Record], events: Sequence[tuple[str, int, str]]) -> None:
        """Queue one save and wait until it is committed."""
        if not records and not events:
            return
        done = asyncio.get_running_loop().create_future()
        self._queue.append((records, events, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._run(), name="agentkit-serve-commit")
        await done

    async def _run(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._write([r for b in batch for r in b[0]], [e for b in batch for e in b[1]])
            except BaseException as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else SessionError("cancelled"))
                if not isinstance(exc, Exception):
                    raise
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def drain(self) -> None:
        """Wait for the writer to finish what is queued."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

"""Read-only SQL for agents, on SQLite or Postgres: parameterised queries the database cannot write with.

    from tools.sql import ReadOnlyDatabase, make_get_customers

    db = ReadOnlyDatabase("sqlite:///shop.db")                    # or "postgresql://user@host/db"
    agent = Agent(tools=[make_get_customers(db)])

    @tool
    def orders_of(customer_id: int) -> list[dict[str, object]]:
        '''List one customer's orders.'''
        return db.query("SELECT id, total FROM orders WHERE customer_id = :id", {"id": customer_id}).records()

The model never writes SQL: each tool runs a query its developer wrote, with the model's values
bound as parameters (never formatted into the text). Read-only is enforced by the database,
not by reading the SQL: SQLite opens the file read-only (``mode=ro``) with ``PRAGMA
query_only``; Postgres runs each query in its own ``READ ONLY`` transaction, through the extended
protocol (one statement per call, so a ``COMMIT`` cannot end the read-only transaction early).
Every query has a row limit and a statement timeout.

SQLite takes ``:name`` placeholders, Postgres ``%(name)s``; ``ReadOnlyDatabase.dialect`` says
which one a database is.
"""

from __future__ import annotations

import datetime
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import Field

from agentkit import Tool, tool

__all__ = ["QueryResult", "ReadOnlyDatabase", "SQLToolError", "make_get_customers"]


class SQLToolError(RuntimeError):
    """A query failed: the database refused it (a write, a timeout) or it is invalid."""


@dataclass(frozen=True)
class QueryResult:
    """The rows of one query, at most the database's ``max_rows``."""

    columns: tuple[str, ...]
    """Column names, in order."""
    rows: list[tuple[Any, ...]]
    """The rows, each in column order."""
    truncated: bool
    """More rows matched than ``max_rows``; the rest were not read."""

    def records(self) -> list[dict[str, Any]]:
        """The rows as ``{column: value}`` dicts."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class ReadOnlyDatabase:
    """A SQLite file or a Postgres database that queries can read and never write.

    Args:
        url: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, or a Postgres
            ``postgresql://...`` URL (needs ``psycopg``, the ``postgres`` extra).
        max_rows: Rows returned at most per query (the query's own ``LIMIT`` may be lower).
        statement_timeout: Seconds a query may run before the database cancels it.

    Raises:
        SQLToolError: The SQLite file does not exist, or the URL is of another kind.
    """

    def __init__(self, url: str, *, max_rows: int = 100, statement_timeout: float = 5.0) -> None:
        if max_rows < 1 or not statement_timeout > 0:
            raise SQLToolError("max_rows must be >= 1 and statement_timeout > 0")
        self.url = url
        self.max_rows = max_rows
        self.statement_timeout = statement_timeout
        self.dialect: Literal["sqlite", "postgres"]
        if url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            self._path = Path(url[len("sqlite:///") :])
            if not self._path.is_file():
                raise SQLToolError(f"no SQLite database at {self._path} (read-only: it is never created)")
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgres"
        else:
            raise SQLToolError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://...")

    def __repr__(self) -> str:
        return f"ReadOnlyDatabase(dialect={self.dialect!r}, max_rows={self.max_rows})"

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Run one statement with bound ``params`` and return at most ``max_rows`` rows.

        Raises:
            SQLToolError: The statement tried to write, ran past the timeout, or failed.
        """
        if self.dialect == "sqlite":
            return self._sqlite(sql, dict(params or {}))
        return self._postgres(sql, dict(params or {}))

    def _sqlite(self, sql: str, params: dict[str, Any]) -> QueryResult:
        uri = f"file:{quote(str(self._path.resolve()))}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=self.statement_timeout, check_same_thread=False)
        deadline = time.monotonic() + self.statement_timeout
        # Called every 1000 SQLite VM steps; a true result aborts the statement ("interrupted").
        connection.set_progress_handler(lambda: time.monotonic() > deadline, 1000)
        try:
            connection.execute("PRAGMA query_only = ON")
            cursor = connection.execute(sql, params)
            rows = cursor.fetchmany(self.max_rows + 1)
            columns = tuple(d[0] for d in cursor.description or ())
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.statement_timeout) from None
        finally:
            connection.close()
        return QueryResult(columns, [tuple(r) for r in rows[: self.max_rows]], len(rows) > self.max_rows)

    def _postgres(self, sql: str, params: dict[str, Any]) -> QueryResult:
        try:
            import psycopg
        except ImportError as exc:
            raise SQLToolError("Postgres needs psycopg 3: pip install 'agentkit-openai[postgres]'") from exc
        try:
            with psycopg.connect(self.url, connect_timeout=10) as connection:
                connection.execute("SET TRANSACTION READ ONLY")  # the transaction psycopg just began
                connection.execute(f"SET LOCAL statement_timeout = {int(self.statement_timeout * 1000)}")
                # prepare=True: the extended protocol takes exactly one statement.
                cursor = connection.execute(sql, params, prepare=True)
                rows = cursor.fetchmany(self.max_rows + 1)
                columns = tuple(d.name for d in cursor.description or ())
                connection.rollback()
        except psycopg.Error as exc:
            raise _postgres_error(exc, self.statement_timeout) from None
        return QueryResult(columns, [tuple(r) for r in rows[: self.max_rows]], len(rows) > self.max_rows)


def _sqlite_error(exc: sqlite3.Error, timeout: float) -> SQLToolError:
    text = str(exc)
    if text == "interrupted":
        return SQLToolError(f"the query ran longer than {timeout:g} s and was cancelled")
    if "readonly" in text or "query_only" in text or "read-only" in text:
        return SQLToolError(f"the database is read-only and refused to write: {text}")
    return SQLToolError(f"the query failed: {text}")


def _postgres_error(exc: Exception, timeout: float) -> SQLToolError:
    state = getattr(exc, "sqlstate", None)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if state == "57014":  # query_canceled: the statement timeout
        return SQLToolError(f"the query ran longer than {timeout:g} s and was cancelled")
    if state == "25006":  # read_only_sql_transaction
        return SQLToolError(f"the database is read-only and refused to write: {text}")
    return SQLToolError(f"the query failed: {text}")


_CUSTOMERS = {
    "sqlite": (
        "SELECT id, name, email, revenue, created_at FROM customers"
        " WHERE revenue >= :min_revenue AND (:created_before IS NULL OR created_at < :created_before)"
        " ORDER BY revenue DESC, id LIMIT :limit"
    ),
    "postgres": (
        "SELECT id, name, email, revenue, created_at FROM customers"
        " WHERE revenue >= %(min_revenue)s"
        " AND (CAST(%(created_before)s AS date) IS NULL OR created_at < CAST(%(created_before)s AS date))"
        " ORDER BY revenue DESC, id LIMIT %(limit)s"
    ),
}


def make_get_customers(db: ReadOnlyDatabase) -> Tool[..., list[dict[str, Any]]]:
    """The tutorial's ``get_customers`` on a ``customers(id, name, email, revenue, created_at)`` table."""

    @tool
    def get_customers(
        min_revenue: Annotated[float, Field(ge=0)] = 0,
        created_before: datetime.date | None = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> list[dict[str, Any]]:
        """List customers by revenue, highest first.

        Args:
            min_revenue: Only customers with at least this lifetime revenue, in USD.
            created_before: Only customers whose account was created before this date.
            limit: How many customers at most.
        """
        before: Any = created_before
        if db.dialect == "sqlite" and created_before is not None:
            before = created_before.isoformat()  # SQLite stores dates as ISO 8601 text.
        params = {"min_revenue": min_revenue, "created_before": before, "limit": min(limit, db.max_rows)}
        # A failure (a timeout, the database down) is not the model's to fix: it is reported as
        # "Error: SQLToolError: ..." rather than as a retry.
        return [_jsonable(r) for r in db.query(_CUSTOMERS[db.dialect], params).records()]

    return get_customers


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for key, value in out.items():
        if isinstance(value, (datetime.date, datetime.datetime)):
            out[key] = value.isoformat()
        elif hasattr(value, "is_finite"):  # decimal.Decimal from Postgres numeric
            out[key] = float(value)
    return out

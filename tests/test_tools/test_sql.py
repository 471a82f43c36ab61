"""``tools/sql.py`` on a real SQLite file and the Postgres CI starts, including attempts to write.

Each test gets its own database: a SQLite file in ``tmp_path``, or a fresh Postgres schema.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent
from agentkit.testing import ScriptedModel, reply, tool_call
from tests.sessions_fixtures import POSTGRES_DSN, require_server
from tools.sql import ReadOnlyDatabase, SQLToolError, make_get_customers

CUSTOMERS = [
    (1, "Ada", "ada@example.com", 1200.0, "2024-01-15"),
    (2, "Grace", "grace@example.com", 5400.5, "2023-06-01"),
    (3, "Linus", "linus@example.com", 80.0, "2025-03-09"),
    (4, "Robert'); DROP TABLE customers; --", "bobby@example.com", 300.0, "2022-12-31"),
]


def _sqlite(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE customers "
            "(id INTEGER PRIMARY KEY, name TEXT, email TEXT, revenue REAL, created_at TEXT)"
        )
        connection.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", CUSTOMERS)
    connection.close()

    def count() -> int:
        with sqlite3.connect(path) as c:
            n = int(c.execute("SELECT count(*) FROM customers").fetchone()[0])
        c.close()
        return n

    yield f"sqlite:///{path}", count


def _postgres() -> Iterator[tuple[str, Any]]:
    require_server("postgres")
    import psycopg

    schema = f"sqltool_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        admin.execute(
            f"CREATE TABLE {schema}.customers (id int PRIMARY KEY, name text, email text, "
            "revenue numeric(12, 2), created_at date)"
        )
        admin.execute(f"CREATE SEQUENCE {schema}.ids")
        with admin.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {schema}.customers VALUES (%s, %s, %s, %s, %s)", CUSTOMERS)

    def count() -> int:
        with psycopg.connect(POSTGRES_DSN) as c:
            return int(c.execute(f"SELECT count(*) FROM {schema}.customers").fetchone()[0])  # type: ignore[index]

    separator = "&" if "?" in POSTGRES_DSN else "?"
    try:
        yield f"{POSTGRES_DSN}{separator}options=-csearch_path%3D{schema}", count
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    yield from (_sqlite(tmp_path) if request.param == "sqlite" else _postgres())


async def test_get_customers_through_an_agent(database: tuple[str, Any]) -> None:
    url, _ = database
    get_customers = make_get_customers(ReadOnlyDatabase(url))
    model = ScriptedModel(
        [
            reply(
                tool_calls=[
                    tool_call(
                        "get_customers", {"min_revenue": 100, "created_before": "2024-06-01", "limit": 2}
                    ),
                    tool_call("get_customers", {"min_revenue": None, "created_before": None, "limit": None}),
                    tool_call("get_customers", {"min_revenue": -5, "created_before": "soon", "limit": 500}),
                ]
            ),
            reply("Grace and Ada."),
        ]
    )
    with model.install():
        result = await Agent(tools=[get_customers]).run("Our best customers before June 2024?")
    filtered, everyone, invalid = (m["content"] for m in result.messages if m["role"] == "tool")
    assert filtered == (
        '[{"id":2,"name":"Grace","email":"grace@example.com","revenue":5400.5,"created_at":"2023-06-01"},'
        '{"id":1,"name":"Ada","email":"ada@example.com","revenue":1200.0,"created_at":"2024-01-15"}]'
    )
    assert [c["id"] for c in json.loads(everyone)] == [2, 1, 4, 3]
    assert "Robert'); DROP TABLE customers; --" in everyone  # data, never SQL
    assert invalid.startswith("Invalid arguments for tool 'get_customers':")
    assert "min_revenue" in invalid and "created_before" in invalid and "limit" in invalid


def test_writes_are_refused_by_the_database(database: tuple[str, Any]) -> None:
    url, count = database
    db = ReadOnlyDatabase(url)
    marker = "%(v)s" if db.dialect == "postgres" else ":v"
    attempts = [
        "DELETE FROM customers",
        "UPDATE customers SET revenue = 0",
        f"INSERT INTO customers (id, name) VALUES (99, {marker})",
        "CREATE TABLE stolen (x int)",
        "DROP TABLE customers",
    ]
    if db.dialect == "postgres":
        attempts += ["SELECT nextval('ids')", "SELECT 1; DELETE FROM customers"]
    else:
        attempts += ["PRAGMA query_only = OFF; DELETE FROM customers", "SELECT 1; DELETE FROM customers"]
    for sql in attempts:
        with pytest.raises(SQLToolError) as caught:
            db.query(sql, {"v": "x"} if marker in sql else None)
        assert "refused to write" in str(caught.value) or "failed" in str(caught.value), sql
    assert count() == len(CUSTOMERS)
    with pytest.raises(SQLToolError, match="read-only and refused to write"):
        db.query("DELETE FROM customers")


def test_sqlite_query_only_off_still_cannot_write(tmp_path: Path) -> None:
    [(url, count)] = list(_sqlite(tmp_path))
    db = ReadOnlyDatabase(url)
    db.query("PRAGMA query_only = OFF")  # allowed as a statement, but the file is opened read-only
    with pytest.raises(SQLToolError, match="read-only and refused to write"):
        db.query("DELETE FROM customers")
    assert count() == len(CUSTOMERS)


def test_row_limit_and_statement_timeout(database: tuple[str, Any]) -> None:
    url, _ = database
    db = ReadOnlyDatabase(url, max_rows=2, statement_timeout=0.3)
    result = db.query("SELECT id FROM customers ORDER BY id")
    assert result.rows == [(1,), (2,)] and result.truncated and result.columns == ("id",)
    assert not db.query("SELECT id FROM customers WHERE id = 1").truncated
    slow = (
        "SELECT pg_sleep(5)"
        if db.dialect == "postgres"
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )
    with pytest.raises(SQLToolError, match=r"ran longer than 0.3 s and was cancelled"):
        db.query(slow)
    assert db.query("SELECT count(*) FROM customers").rows == [(4,)]  # still usable


def test_bad_urls_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(SQLToolError, match="no SQLite database at"):
        ReadOnlyDatabase(f"sqlite:///{tmp_path}/missing.db")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(SQLToolError, match="unsupported database URL"):
        ReadOnlyDatabase("mysql://localhost/shop")
    [(url, _)] = list(_sqlite(tmp_path))
    with pytest.raises(SQLToolError, match="the query failed: no such table: orders"):
        ReadOnlyDatabase(url).query("SELECT * FROM orders")

"""``agentkit sessions list`` and ``agentkit sessions show ID``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from typing import Any

from ..exceptions import AgentkitError
from ._sqlite import DEFAULT_PATH, SQLiteSession
from ._transcript import render_transcript


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``list`` and ``show`` subcommands."""
    actions = parser.add_subparsers(dest="action", required=True)
    for name, help_text in (
        ("list", "list the threads in a store"),
        ("show", "print a thread as a transcript"),
    ):
        sub = actions.add_parser(name, help=help_text, description=help_text)
        if name == "show":
            sub.add_argument("session_id", metavar="ID", help="the thread's id")
        store = sub.add_mutually_exclusive_group()
        store.add_argument("--path", help=f"the SQLite file (default: ./{DEFAULT_PATH})")
        store.add_argument("--postgres", metavar="DSN", help="read from Postgres instead")
        store.add_argument("--redis", metavar="URL", help="read from Redis instead")


def run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; return the exit code."""
    try:
        return asyncio.run(_run(args))
    except AgentkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace) -> int:
    if not (args.postgres or args.redis):
        path = args.path or DEFAULT_PATH
        if not os.path.exists(path):  # never create an empty store just to list it
            print(f"error: no session store at {path}", file=sys.stderr)
            return 1
        problem = _not_a_store(path)
        if problem:  # a read-only command must not add tables to someone else's database
            print(f"error: {path} {problem}", file=sys.stderr)
            return 1
    session = _open(args, getattr(args, "session_id", ""))
    try:
        if args.action == "list":
            if isinstance(session, SQLiteSession):
                for session_id, count, _ in await session.session_stats():
                    print(f"{session_id}\t{count} items")
            else:
                for session_id in await session.list_sessions():
                    print(session_id)
            return 0
        items = await session.load()
        if not items:
            print(f"error: session {args.session_id!r} is empty or does not exist", file=sys.stderr)
            return 1
        print(f"# session {args.session_id} ({len(items)} items)")
        print(render_transcript(items))
        return 0
    finally:
        aclose = getattr(session, "aclose", None)
        if aclose is not None:
            await aclose()


def _not_a_store(path: str) -> str:
    """Why ``path`` is not an agentkit SQLite store, or ``""`` if it is one."""
    if os.path.isdir(path):
        return "is a directory; pass the SQLite file with --path"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"is not a readable SQLite database ({exc})"
    if "agentkit_meta" not in {name for (name,) in rows}:
        return "is not an agentkit session store (it has no agentkit tables)"
    return ""


def _open(args: argparse.Namespace, session_id: str) -> Any:
    if args.postgres:
        from ._postgres import PostgresSession

        return PostgresSession(session_id, args.postgres)
    if args.redis:
        from ._redis import RedisSession

        return RedisSession(session_id, args.redis)
    return SQLiteSession(session_id, args.path)

"""``agentkit sessions list`` and ``agentkit sessions show ID``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys

from .._wire.transcript import render_transcript
from ..exceptions import AgentkitError
from ._sqlite import SQLiteSession
from ._store_url import StoreURL, add_store_arguments, driver_errors, open_session, parse_store_url

EXAMPLES = """examples:
  agentkit sessions list                                   ./agentkit_sessions.sqlite3
  agentkit sessions list --store sqlite:///data/threads.sqlite3
  agentkit sessions show user-42 --store postgresql://postgres@127.0.0.1:5432/app
  agentkit sessions show user-42 --store redis://127.0.0.1:6379/0"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``list`` and ``show`` subcommands."""
    epilog = parser.epilog
    parser.epilog = EXAMPLES + ("\n\n" + epilog if epilog else "")
    actions = parser.add_subparsers(dest="action", required=True)
    for name, help_text in (
        ("list", "list the threads in a store"),
        ("show", "print a thread as a transcript"),
    ):
        sub = actions.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name == "show":
            sub.add_argument("session_id", metavar="ID", help="the thread's id")
        add_store_arguments(sub)


def run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; return 0, or 2 when the store or the thread cannot be read."""
    try:
        store = parse_store_url(args.store, args.path)
    except ValueError as exc:
        print(f"agentkit sessions: error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args, store))
    except Exception as exc:
        # The drivers load lazily, inside the run: ask for their error classes afterwards.
        if not isinstance(exc, (AgentkitError, *driver_errors())):
            raise
        print(f"agentkit sessions: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


async def _run(args: argparse.Namespace, store: StoreURL) -> int:
    if store.kind == "sqlite":
        if not os.path.exists(store.location):  # never create an empty store just to list it
            print(f"agentkit sessions: error: no session store at {store.location}", file=sys.stderr)
            return 2
        problem = _not_a_store(store.location)
        if problem:  # a read-only command must not add tables to someone else's database
            print(f"agentkit sessions: error: {store.location} {problem}", file=sys.stderr)
            return 2
    session = open_session(store, getattr(args, "session_id", ""))
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
            print(
                f"agentkit sessions: error: session {args.session_id!r} is empty or does not exist",
                file=sys.stderr,
            )
            return 2
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
        return "is a directory; pass the SQLite file with --store sqlite:///FILE"
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

"""``agentkit search "query" --store URL [-k N]``: print the nearest passages with scores and sources."""

from __future__ import annotations

import argparse
import os

from ..exceptions import AgentkitError
from ._index_cli import add_store_arguments, fail, guarded, store_with_embedder
from ._url import sqlite_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``search`` options."""
    parser.add_argument("query", help="what to look for")
    add_store_arguments(parser)
    parser.add_argument("-k", type=int, default=5, help="how many passages (default 5)")


def run(args: argparse.Namespace) -> int:
    """Search; 0 with hits printed (or none found), 2 for bad input or a store or API that failed."""
    try:
        sqlite_path(args.store)
    except AgentkitError as exc:
        return fail("search", exc)
    return guarded("search", _search(args))


async def _search(args: argparse.Namespace) -> int:
    path = sqlite_path(args.store)
    if path is not None and path != ":memory:" and not os.path.isfile(path):
        # Searching must not leave an empty store behind.
        return fail("search", f"no vector store at {path}")
    store, embedder = await store_with_embedder(args)
    try:
        hits = await store.search(await embedder.embed_one(args.query), k=args.k)
    finally:
        await store.aclose()
    if not hits:
        print("no matching passages")
    for n, hit in enumerate(hits, 1):
        source = hit.metadata.get("source", hit.id)
        print(f"{n}. {hit.score:.4f}  {source}  ({hit.id})")
        text = " ".join(hit.text.split())
        print(f"   {text[:300]}{'…' if len(text) > 300 else ''}")
    return 0

"""``agentkit index PATH... --store URL``: chunk, embed and store text and Markdown files.

Idempotent: a chunk is stored under ``<source>#<n>`` with its text; a re-run embeds only chunks
whose text changed and deletes the chunks a shorter file no longer has.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..exceptions import AgentkitError, UserError
from ._store import VectorStore, check_identity

if TYPE_CHECKING:
    from ._embedder import Embedder

DEFAULT_MODEL = "text-embedding-3-small"

EXTENSIONS = (".md", ".markdown", ".txt", ".rst")
"""Files picked up when a directory is indexed."""


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """``--store`` and the embedding model options, shared by ``index`` and ``search``."""
    parser.add_argument("--store", required=True, metavar="URL", help="sqlite:///path or postgresql://...")
    parser.add_argument(
        "--model", default=None, help="embedding model (default: the store's, else text-embedding-3-small)"
    )
    parser.add_argument(
        "--dimensions", type=int, default=None, help="vector length (text-embedding-3 models)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``index`` options."""
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help=f"files, or directories of {'/'.join(EXTENSIONS)} files"
    )
    add_store_arguments(parser)
    parser.add_argument("--chunk-tokens", type=int, default=400, help="tokens per chunk (default 400)")
    parser.add_argument(
        "--overlap", type=int, default=50, help="tokens shared by neighbouring chunks (default 50)"
    )


def run(args: argparse.Namespace) -> int:
    """Index the files; 0 when done, 2 for bad input or a store or API that failed."""
    return guarded("index", _index(args))


def fail(command: str, message: object) -> int:
    """Print ``agentkit COMMAND: error: ...`` and return 2, the CLI's status for every error."""
    print(f"agentkit {command}: error: {message}", file=sys.stderr)
    return 2


def guarded(command: str, coro: Any) -> int:
    """Run a command's coroutine; agentkit's and the ``openai`` SDK's errors exit 2 with a message.

    Under the CLI's convention (``docs/cli.md``) 2 covers bad input and a store or API that
    failed or cannot be reached; these commands have no check that can fail (1).
    """
    import openai

    try:
        code: int = asyncio.run(coro)
        return code
    except (AgentkitError, openai.OpenAIError) as exc:
        return fail(command, exc)


async def store_with_embedder(args: argparse.Namespace) -> tuple[VectorStore, Embedder]:
    """Open ``--store`` and an embedder for the store's model (``--model`` for a new store).

    Raises:
        EmbeddingModelMismatchError: ``--model``/``--dimensions`` differ from the store's.
    """
    from ..models import model_info
    from ._embedder import Embedder
    from ._url import open_store

    probe = open_store(args.store)
    try:
        await probe.count()  # opens it, so that it knows its model
        model = args.model or probe.model or DEFAULT_MODEL
        dims = args.dimensions or (probe.dimensions if model == probe.model else None)
        if dims is not None and dims == model_info(model).embedding_dimensions:
            dims = None  # the model's own size is not sent, so models without ``dimensions`` work
        embedder = Embedder(model, dims)
        identity = (probe.model, probe.dimensions) if probe.model and probe.dimensions else None
        check_identity(repr(probe), identity, embedder.model, embedder.dimensions)
    finally:
        await probe.aclose()
    return open_store(args.store, embedder=embedder), embedder


def files_in(paths: list[str]) -> list[str]:
    """The files to index, sorted; a missing path raises ``UserError``."""
    found: list[str] = []
    for path in paths:
        if os.path.isfile(path):
            found.append(os.path.normpath(path))
        elif os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [
                    os.path.normpath(os.path.join(root, n)) for n in names if n.lower().endswith(EXTENSIONS)
                ]
        else:
            raise UserError(f"no such file or directory: {path}")
    return sorted(dict.fromkeys(os.path.normpath(f) for f in found))


@contextmanager
def progress(total: int, what: str) -> Iterator[Any]:
    """A rich progress bar on stderr (nothing when rich is missing or stderr is not a terminal)."""
    try:
        from rich.console import Console
        from rich.progress import Progress
    except ImportError:
        yield lambda n: None
        return
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


async def _index(args: argparse.Namespace) -> int:
    from ._chunk import chunk_text

    files = files_in(args.paths)
    store, embedder = await store_with_embedder(args)
    try:
        wanted: dict[str, tuple[str, dict[str, Any]]] = {}
        removed = 0
        for path in files:
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except UnicodeDecodeError as exc:
                raise UserError(f"{path} is not UTF-8 text: {exc}") from exc
            chunks = chunk_text(
                text, model=embedder.model, max_tokens=args.chunk_tokens, overlap=args.overlap
            )
            source = path.replace(os.sep, "/")
            for n, chunk in enumerate(chunks):
                wanted[f"{source}#{n}"] = (chunk, {"source": source, "chunk": n})
            stored = await store.count(filter={"source": source})
            if stored > len(chunks):
                removed += await store.delete([f"{source}#{n}" for n in range(len(chunks), stored)])
        existing = await store.get(list(wanted))
        changed = [
            i
            for i, (text, meta) in wanted.items()
            if i not in existing or existing[i].text != text or existing[i].metadata != meta
        ]
        step = 256
        with progress(len(changed), "embedding") as advance:
            for start in range(0, len(changed), step):
                ids = changed[start : start + step]
                vectors = await embedder.embed([wanted[i][0] for i in ids])
                await store.upsert(ids, [wanted[i][0] for i in ids], vectors, [wanted[i][1] for i in ids])
                advance(len(ids))
        print(
            f"indexed {len(files)} files into {args.store}: {len(changed)} chunks embedded, "
            f"{len(wanted) - len(changed)} unchanged, {removed} removed"
        )
        return 0
    finally:
        await store.aclose()

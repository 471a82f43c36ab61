"""``agentkit serve module:obj`` and ``agentkit keys create USER``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from typing import Any

from ..exceptions import AgentkitError
from ._store import DEFAULT_STORE


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``agentkit serve``."""
    parser.add_argument(
        "target", metavar="module:obj", help="an Agent, a list of agents, or a ToolRegistry, e.g. app:agent"
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--store", default=DEFAULT_STORE, help=f"store URL (default: {DEFAULT_STORE})")
    parser.add_argument(
        "--cors", action="append", default=[], metavar="ORIGIN", help="allow this origin (repeat)"
    )
    parser.add_argument("--otel", action="store_true", help="one OpenTelemetry span per request")
    parser.add_argument(
        "--rate-limit", type=int, default=600, metavar="N", help="requests per minute per key (0: no limit)"
    )


def run_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit 2 when the target cannot be loaded."""
    try:
        served = load_target(args.target)
        from . import RateLimit, create_app

        limit = RateLimit(args.rate_limit, 60.0) if args.rate_limit > 0 else None
        app = create_app(
            served, store=args.store, cors_origins=args.cors, rate_limit=limit, opentelemetry=args.otel
        )
        import uvicorn
    except (AgentkitError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"agentkit: serving {args.target} on http://{args.host}:{args.port} (playground: /playground)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def load_target(target: str) -> Any:
    """Import ``module:attr.path`` (the working directory is importable).

    Raises:
        ConfigurationError: The target is malformed, cannot be imported, or is not servable.
    """
    from .. import Agent
    from ..exceptions import ConfigurationError
    from ..sessions import ToolRegistry

    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ConfigurationError(f"Expected module:obj, e.g. myapp:agent, not {target!r}.")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"Cannot import {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigurationError(f"{module_name!r} has no attribute {attr!r}.")
        obj = getattr(obj, part)
    if isinstance(obj, (Agent, ToolRegistry)):
        return obj
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(a, Agent) for a in obj):
        return list(obj)
    raise ConfigurationError(
        f"{target} is a {type(obj).__name__}; serve an Agent, a list of agents, or a ToolRegistry."
    )


def add_keys_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``agentkit keys``."""
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create", help="print a new API key for USER", description="print a new API key"
    )
    create.add_argument("user", metavar="USER", help="the user who owns the key (and their threads)")
    create.add_argument("--store", default=DEFAULT_STORE, help=f"store URL (default: {DEFAULT_STORE})")


def run_keys(args: argparse.Namespace) -> int:
    """Print a new key (its hash is stored); exit 2 on a bad user or store."""
    from ._auth import create_key
    from ._store import open_store

    async def create() -> str:
        store = open_store(args.store)
        try:
            return await create_key(store, args.user)
        finally:
            await store.aclose()

    try:
        key = asyncio.run(create())
    except AgentkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(key)
    return 0

"""Serve agents over HTTP: an Assistants-compatible REST API, native streaming, and a playground.

Needs the ``serve`` extra (Starlette, sse-starlette, uvicorn)::

    from agentkit.serve import create_app
    app = create_app([support_agent], store="sqlite:///threads.db")

or from the shell: ``agentkit serve myapp:agent --port 8000`` and ``agentkit keys create alice``.
"""

from __future__ import annotations

from ..sessions import ToolRegistry
from ._app import create_app
from ._auth import RateLimit, create_key
from ._store import ServeStore, open_store

__all__ = ["RateLimit", "ServeStore", "ToolRegistry", "create_app", "create_key", "open_store"]

"""``agentkit worker module:agent --store URL``: execute enqueued durable runs."""

from __future__ import annotations

from ._cli import add_worker_arguments as add_arguments
from ._cli import run_worker as run

__all__ = ["add_arguments", "run"]

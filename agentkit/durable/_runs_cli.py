"""``agentkit runs enqueue|show``: enqueue a durable run, or show its status and steps."""

from __future__ import annotations

from ._cli import add_runs_arguments as add_arguments
from ._cli import run_runs as run

__all__ = ["add_arguments", "run"]

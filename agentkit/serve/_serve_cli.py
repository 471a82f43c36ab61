"""``agentkit serve`` (see ``_cli``)."""

from ._cli import add_serve_arguments as add_arguments
from ._cli import run_serve as run

__all__ = ["add_arguments", "run"]

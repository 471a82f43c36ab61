"""``agentkit keys`` (see ``_cli``)."""

from ._cli import add_keys_arguments as add_arguments
from ._cli import run_keys as run

__all__ = ["add_arguments", "run"]

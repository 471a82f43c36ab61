"""The ``agentkit`` command line: one module per subcommand (``schema``, ``sessions``, ``finetune``, ...)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each subcommand lives in its own module, imported only when used. A module exposes
# ``add_arguments(parser)`` and ``run(args) -> int``.
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "schema": ("agentkit._schema_cli", "print or check the JSON schema of tools"),
    "replay": ("agentkit.testing._replay_cli", "print a recorded cassette as a transcript"),
    "sessions": ("agentkit.sessions._cli", "list and show persisted threads"),
    "models": ("agentkit._models_cli", "print known models: context window, prices, features"),
    "finetune": ("agentkit.finetune._cli", "export, validate, estimate, split training data; run jobs"),
    "eval": ("agentkit.evals._cli", "compare models or agent configurations on held-out cases"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``agentkit`` command and return its exit code."""
    parser = argparse.ArgumentParser(prog="agentkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, (module_name, help_text) in _SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    code: int = modules[args.command].run(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

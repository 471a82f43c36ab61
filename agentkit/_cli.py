"""The ``agentkit`` command line: one module per subcommand (``schema``, ``sessions``, ``finetune``, ...)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from importlib import metadata

# The distribution's name on the package index; the import name is ``agentkit``.
DISTRIBUTION = "agentkit-openai"

# Each subcommand lives in its own module, imported only when used. A module exposes
# ``add_arguments(parser)`` and ``run(args) -> int``.
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "schema": ("agentkit._schema_cli", "print, snapshot or check the JSON schema of tools"),
    "replay": ("agentkit.testing._replay_cli", "print a recorded cassette as a transcript"),
    "sessions": ("agentkit.sessions._cli", "list and show persisted threads"),
    "models": ("agentkit._models_cli", "print known models: context window, prices, features"),
    "finetune": ("agentkit.finetune._cli", "export, validate, estimate, split training data; run jobs"),
    "eval": ("agentkit.evals._cli", "compare models or agent configurations on held-out cases"),
    "serve": ("agentkit.serve._serve_cli", "serve agents over HTTP (Assistants-compatible API, playground)"),
    "keys": ("agentkit.serve._keys_cli", "create API keys for the service"),
    "index": ("agentkit.embeddings._index_cli", "chunk, embed and store text files in a vector store"),
    "search": ("agentkit.embeddings._search_cli", "search a vector store"),
    "worker": ("agentkit.durable._worker_cli", "execute enqueued durable runs (DBOS on Postgres)"),
    "runs": ("agentkit.durable._runs_cli", "enqueue a durable run, or show its status and steps"),
    "mcp": ("agentkit.mcp._cli", "serve tools or an agent to MCP clients"),
}

DESCRIPTION = "Function-calling agents on the OpenAI API: inspect tools, cassettes, sessions and models."

# One convention for every subcommand; what "a check failed" (1) means is each command's own.
_CHECK_FAILED: dict[str, str] = {
    "schema": "--check found a changed schema",
    "finetune": "validate, start: the training file has errors; status: the job failed",
    "eval": "a case ended in an error (the errors are listed after the report)",
}


def exit_codes(check_failed: str | None = None) -> str:
    """The ``exit status:`` epilog of a ``--help``; ``check_failed`` says when the command exits 1."""
    lines = ["exit status:", "  0  success"]
    if check_failed:
        lines.append(f"  1  {check_failed}")
    lines.append("  2  usage or input error (bad arguments, a missing or unreadable file, store or thread)")
    return "\n".join(lines)


EXIT_CODES = exit_codes(
    "a check failed:" + "".join(f"\n       {name}: {text}" for name, text in _CHECK_FAILED.items())
)


def version() -> str:
    """Return the installed version of the distribution, or ``"unknown"`` outside an install."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the parser; only ``command``'s module is imported to declare its arguments."""
    parser = argparse.ArgumentParser(
        prog="agentkit",
        description=DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in _SUBCOMMANDS.items():
        subparser = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=exit_codes(_CHECK_FAILED.get(name)),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        subparser.set_defaults(_module=module_name)
        if name == command:
            importlib.import_module(module_name).add_arguments(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``agentkit`` command and return its exit code (see ``EXIT_CODES``)."""
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        chosen = next((arg for arg in argv if not arg.startswith("-")), None)
        args = build_parser(chosen).parse_args(argv)
        code: int = importlib.import_module(args._module).run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``agentkit sessions list | head -1``): what it read is what it
        # wanted, so this is a success. Point stdout at /dev/null so that the interpreter's own
        # flush at exit does not raise a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

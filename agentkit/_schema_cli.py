"""``agentkit schema``: print the JSON a model sees for a tool, snapshot it, or check a snapshot.

A docstring edit or a library upgrade must never change a schema silently: ``--write`` saves a
snapshot, and ``--check`` exits with status 1 and prints a unified diff when the output differs
from it. The examples are in ``EXAMPLES`` (shown by ``agentkit schema --help``).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from ._tool import Tool, tool
from .exceptions import ToolDefinitionError

__all__ = ["add_arguments", "run"]

EXAMPLES = """examples:
  agentkit schema path/to/file.py:get_weather                   print one tool
  agentkit schema my_package.tools:get_weather --api responses  in the Responses API format
  agentkit schema my_package.tools --all --write tools.snapshot.json   save a snapshot
  agentkit schema my_package.tools --all --check tools.snapshot.json   exit 1 if it changed"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``schema`` subcommand's arguments."""
    parser.epilog = EXAMPLES + ("\n\n" + parser.epilog if parser.epilog else "")
    parser.add_argument(
        "target",
        help="path/to/file.py:function or module:function; with --all, a file or module alone",
    )
    parser.add_argument("--all", action="store_true", help="print every Tool defined in the module")
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--write", metavar="SNAPSHOT.json", help="write the schema to a snapshot file instead of printing it"
    )
    output.add_argument(
        "--check", metavar="SNAPSHOT.json", help="compare with a saved snapshot; exit 1 on a change"
    )
    parser.add_argument(
        "--api",
        choices=("chat", "responses"),
        default="chat",
        help="the tool format: Chat Completions (default) or Responses",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``agentkit schema``; return 0 on success, 1 on a changed schema, 2 on a usage error."""
    try:
        tools = _load(args.target, all_tools=args.all)
    except (ImportError, OSError, AttributeError, ValueError, ToolDefinitionError) as exc:
        print(f"agentkit schema: error: {exc}", file=sys.stderr)
        return 2
    rendered: Any = [_render(t, args.api) for t in tools] if args.all else _render(tools[0], args.api)
    text = json.dumps(rendered, indent=2, ensure_ascii=False) + "\n"
    if args.write is not None:
        return _write(text, Path(args.write), len(tools))
    if args.check is None:
        sys.stdout.write(text)
        return 0
    return _check(text, Path(args.check))


def _write(text: str, snapshot: Path, count: int) -> int:
    try:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"agentkit schema: error: cannot write snapshot {snapshot}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {count} tool schema(s) to {snapshot}; check it with --check {snapshot}")
    return 0


def _render(t: Tool[..., Any], api: str) -> dict[str, Any]:
    return t.to_responses() if api == "responses" else t.to_openai()


def _check(text: str, snapshot: Path) -> int:
    try:
        expected = json.loads(snapshot.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"agentkit schema: error: cannot read snapshot {snapshot}: {exc}", file=sys.stderr)
        return 2
    # Compare the data, not the bytes: key order and indentation of the snapshot do not matter.
    before = json.dumps(expected, indent=2, sort_keys=True, ensure_ascii=False).splitlines()
    after = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False).splitlines()
    if before == after:
        print(f"schema matches {snapshot}")
        return 0
    print(f"schema changed: what the model sees differs from {snapshot}")
    summary = _changed_tools(expected, json.loads(text))
    if summary:
        print(summary)
    diff = difflib.unified_diff(before, after, fromfile=str(snapshot), tofile="current", lineterm="")
    print("\n".join(diff))
    return 1


def _changed_tools(before: Any, after: Any) -> str:
    """Name the tools that changed, appeared or disappeared (for ``--all`` snapshots)."""
    if not (isinstance(before, list) and isinstance(after, list)):
        return ""

    def by_name(tools: list[Any]) -> dict[str, Any]:
        named = {}
        for t in tools:
            if isinstance(t, dict):
                named[str(t.get("name") or (t.get("function") or {}).get("name"))] = t
        return named

    old, new = by_name(before), by_name(after)
    parts = [
        f"{label}: {', '.join(names)}"
        for label, names in (
            ("changed", sorted(n for n in old.keys() & new.keys() if old[n] != new[n])),
            ("added", sorted(new.keys() - old.keys())),
            ("removed", sorted(old.keys() - new.keys())),
        )
        if names
    ]
    return "; ".join(parts)


def _load(target: str, *, all_tools: bool) -> list[Tool[..., Any]]:
    where, _, attribute = target.rpartition(":") if ":" in target else (target, "", "")
    if _looks_like_windows_drive(target, where):
        where, attribute = target, ""
    if not all_tools and not attribute:
        raise ValueError(f"{target!r}: name the function as path/to/file.py:function or module:function")
    if all_tools and attribute:
        raise ValueError("--all takes a file or module without ':function'")
    module = _import_user_module(where)
    if all_tools:
        return module_tools(where, module)
    value = attribute_of(where, module, attribute)
    if isinstance(value, Tool):
        return [value]
    if callable(value):
        return [tool(value)]
    raise ValueError(f"{target!r} is neither a Tool nor a function")


def import_target(target: str) -> tuple[str, ModuleType, str]:
    """Import ``path/to/file.py[:name]`` or ``module[:name]``; return (where, module, name or "").

    Raises:
        ImportError: The module is missing, or importing it raised (a usage error, exit 2).
        OSError: The file does not exist.
    """
    where, _, attribute = target.rpartition(":") if ":" in target else (target, "", "")
    if _looks_like_windows_drive(target, where):
        where, attribute = target, ""
    return where, _import_user_module(where), attribute


def module_tools(where: str, module: ModuleType) -> list[Tool[..., Any]]:
    """Every ``Tool`` a module defines; ``ValueError`` when there is none."""
    tools = [value for value in vars(module).values() if isinstance(value, Tool)]
    if not tools:
        raise ValueError(f"no Tool found in {where!r}; decorate functions with @tool")
    return tools


def attribute_of(where: str, module: ModuleType, attribute: str) -> Any:
    """``module.attribute``; ``AttributeError`` naming both when it is missing."""
    value = getattr(module, attribute, None)
    if value is None:
        raise AttributeError(f"{where!r} has no attribute {attribute!r}")
    return value


def _import_user_module(where: str) -> ModuleType:
    try:
        return _import(where)
    except (ImportError, OSError):
        raise
    except Exception as exc:
        # The user's module itself failed (a SyntaxError, an error at import time): a usage
        # error (exit 2), not a changed schema (exit 1).
        raise ImportError(f"importing {where!r} failed: {type(exc).__name__}: {exc}") from exc


def _looks_like_windows_drive(target: str, where: str) -> bool:
    return len(where) == 1 and where.isalpha() and target[2:3] in ("\\", "/")


def _import(where: str) -> ModuleType:
    if where.endswith(".py") or os.sep in where or "/" in where:
        path = Path(where).resolve()
        if not path.is_file():
            raise OSError(f"no such file: {where}")
        # Let the file import its siblings, as ``python path/to/file.py`` would.
        sys.path.insert(0, str(path.parent))
        name = f"_agentkit_schema_{path.stem}_{abs(hash(str(path)))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {where}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return importlib.import_module(where)

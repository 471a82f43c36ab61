"""``read_file`` and ``list_files``: let an agent read a directory tree, and nothing outside it.

    from tools.files import make_file_tools

    agent = Agent(tools=make_file_tools("docs/"))

Every path the model gives is resolved against the root, symbolic links included, and refused if
the result lies outside the root: ``../secrets``, ``/etc/passwd`` and a link pointing out all get
a ``ToolRetry`` the model can read. The tools only read; they never write or delete.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agentkit import Tool, ToolRetry, tool

__all__ = ["make_file_tools"]


def make_file_tools(
    root: str | os.PathLike[str], *, max_chars: int = 50_000, max_entries: int = 500
) -> list[Tool[..., Any]]:
    """Build ``read_file`` and ``list_files`` tools confined to ``root``.

    Args:
        root: The directory the agent may read.
        max_chars: Characters returned by one ``read_file`` call at most; longer files are read
            in pages with ``offset``.
        max_entries: Entries returned by one ``list_files`` call at most.
    """
    base = Path(root).resolve(strict=True)
    if not base.is_dir():
        raise NotADirectoryError(f"{root} is not a directory")

    def inside(path: str) -> Path:
        # resolve() follows symbolic links, so a link that points out of the root is refused too.
        target = (base / path).resolve()
        if target != base and base not in target.parents:
            raise ToolRetry(f"{path!r} is outside the readable directory; use a path relative to it.")
        return target

    @tool(idempotent=True)
    def read_file(path: str, offset: int = 0) -> str:
        """Read a text file.

        Args:
            path: The file's path, relative to the readable directory.
            offset: The character to start from, to read a long file page by page.
        """
        target = inside(path)
        if not target.is_file():
            raise ToolRetry(f"{path!r} is not a file; list_files shows what there is.")
        with target.open(encoding="utf-8", errors="replace") as f:
            text = f.read(offset + max_chars + 1)[offset:]
        if len(text) > max_chars:
            return text[:max_chars] + f"\n[more: call read_file again with offset={offset + max_chars}]"
        return text

    @tool(idempotent=True)
    def list_files(path: str = ".", pattern: str = "*", recursive: bool = False) -> str:
        """List the files and directories in a directory, one a line; directories end with '/'.

        Args:
            path: The directory, relative to the readable directory.
            pattern: A glob pattern for the names, e.g. '*.md'.
            recursive: Also list everything below, as paths relative to ``path``.
        """
        target = inside(path)
        if not target.is_dir():
            raise ToolRetry(f"{path!r} is not a directory.")
        found = target.rglob(pattern) if recursive else target.glob(pattern)
        lines: list[str] = []
        for entry in sorted(found):
            # A link inside the tree may point out of it: list only what read_file would accept.
            if base not in entry.resolve().parents:
                continue
            if len(lines) == max_entries:
                lines.append(f"[more than {max_entries} entries; narrow the pattern]")
                break
            name = entry.relative_to(target).as_posix()
            lines.append(name + "/" if entry.is_dir() else name)
        return "\n".join(lines) or "(no matching entries)"

    return [read_file, list_files]

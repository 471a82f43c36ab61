"""Every Python block in the README type-checks with ``mypy --strict``, and its output is real.

Blocks that use top-level ``await`` (as in a notebook) are checked wrapped in an ``async def``.
Each block is its own module, so a block must import what it uses.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

_TOP_LEVEL_AWAIT = re.compile(r"^(?:\w[\w.\[\], ]*\s*=\s*)?(?:await\b|async\s+(?:for|with)\b)", re.MULTILINE)


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def as_module(block: str) -> str:
    """Return ``block`` as a module mypy can check: top-level ``await`` goes inside ``async def``."""
    if not _TOP_LEVEL_AWAIT.search(block):
        return block
    imports = [line for line in block.splitlines() if line.startswith(("import ", "from "))]
    body = [line for line in block.splitlines() if not line.startswith(("import ", "from "))]
    wrapped = textwrap.indent("\n".join(body), "    ")
    return "\n".join([*imports, "", "", "async def _block() -> None:", wrapped, ""])


def mypy(files: list[Path]) -> subprocess.CompletedProcess[str]:
    # The project's configuration (strict, the overrides for untyped libraries); the files named
    # on the command line replace its `packages`.
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--no-error-summary",
            "--hide-error-context",
            *map(str, files),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 3


def test_a_top_level_await_block_is_wrapped() -> None:
    module = as_module("from x import agent\n\nresult = await agent.run('hi')\nprint(result)\n")
    assert module == (
        "from x import agent\n\n\nasync def _block() -> None:\n\n"
        "    result = await agent.run('hi')\n    print(result)\n"
    )
    assert as_module("import x\nx.run()\n") == "import x\nx.run()\n"


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One mypy run over every block (each its own module); return the folder and the report."""
    folder = tmp_path_factory.mktemp("readme_blocks")
    files = [folder / f"readme_block_{n + 1}.py" for n in range(len(BLOCKS))]
    for path, block in zip(files, BLOCKS, strict=True):
        path.write_text(as_module(block), encoding="utf-8")
    done = mypy(files)
    assert done.returncode in (0, 1), done.stderr  # 2 would be a crash or a bad configuration
    return folder, done.stdout


@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=lambda n: f"block{n + 1}")
def test_readme_block_type_checks(number: int, mypy_report: tuple[Path, str]) -> None:
    _, report = mypy_report
    # By file name: mypy's cache may report a module under the folder of an earlier run.
    name = f"readme_block_{number + 1}.py:"
    errors = [line for line in report.splitlines() if line.rpartition("/")[2].startswith(name)]
    assert not errors, f"README Python block {number + 1}:\n" + "\n".join(errors)


def test_the_checker_fails_on_a_type_error(tmp_path: Path) -> None:
    # The same check on a block with a mistake in it: the test above can fail.
    path = tmp_path / "bad_block.py"
    path.write_text(
        as_module("from agentkit import tool\n\n\n@tool\ndef f(x: int) -> str:\n    return x\n"),
        encoding="utf-8",
    )
    done = mypy([path])
    assert done.returncode == 1
    assert 'Incompatible return value type (got "int", expected "str")' in done.stdout


def test_the_printed_output_is_what_the_example_prints() -> None:
    # The README shows what `make demo` prints; examples/weather.py is that first agent.
    shown = re.search(r"```text\n(tool call: .*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert shown is not None
    example = (ROOT / "examples" / "weather.py").read_text(encoding="utf-8")
    tool_source = BLOCKS[0][BLOCKS[0].index("@tool") : BLOCKS[0].index("\n\n\nagent = ")]
    assert tool_source in example  # the same tool, word for word
    env = {"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "weather.py")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == shown.group(1).splitlines()

"""The public API's types hold under ``mypy --strict`` (see ``tests/typing/public_api.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TYPING = Path(__file__).parent / "typing"


def test_public_api_types_check() -> None:
    pytest.importorskip("mypy")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(TYPING)],
        capture_output=True,
        text=True,
        cwd=TYPING.parent.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr

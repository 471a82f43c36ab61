"""Compare the cost of ``import agentkit`` with ``import openai``, each in fresh interpreters.

Run: ``python benchmarks/bench_import.py``. Target: agentkit costs at most 10% more than openai.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

RUNS = 15
CODE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def measure(module: str) -> float:
    """Return the median import time of ``module`` in seconds, each run in a new interpreter."""
    times = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", CODE.format(module=module)], check=True, capture_output=True, text=True
        ).stdout
        times.append(float(out))
    return statistics.median(times)


def main() -> None:
    """Print both medians and their ratio."""
    measure("openai")  # warm the file system cache
    openai_time = measure("openai")
    agentkit_time = measure("agentkit")
    lazy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, agentkit; print(sorted({'jsonschema', 'docstring_parser'} & set(sys.modules)))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"import openai    median of {RUNS}: {openai_time * 1000:7.1f} ms")
    print(f"import agentkit  median of {RUNS}: {agentkit_time * 1000:7.1f} ms")
    print(f"ratio agentkit / openai: {agentkit_time / openai_time:.3f}  (target: <= 1.10)")
    print(f"loaded eagerly by import agentkit (should be []): {lazy}")


if __name__ == "__main__":
    main()

"""Time turning 200 freshly defined functions into tool schemas.

Each function has 5 typed parameters (``str``, ``list[str]``, a ``Literal`` with values unique to
the function, ``Optional[int] = None``, ``float`` with a default) and a Google docstring whose
texts are unique too, so no cache can answer for a whole tool. The baseline, measured in the same
run, is ``openai.pydantic_function_tool`` on equivalent hand-written pydantic models.

Run: ``python benchmarks/bench_schema.py``
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from openai import pydantic_function_tool

from agentkit import tool

N = 200
ROUNDS = 7

FUNCTION = '''
def search_{i}(
    query: str,
    tags: list[str],
    mode: Literal["fast_{r}_{i}", "exact_{r}_{i}"],
    limit: Optional[int] = None,
    boost: float = 1.0,
) -> str:
    """Search collection number {i} (round {r}).

    Args:
        query: The words to look for in collection {i}.
        tags: Only return documents with all of these tags ({i}).
        mode: How to match the query ({i}).
        limit: At most this many results for {i}; all when omitted.
        boost: Weight of recent documents in {i}.
    """
    return query
'''

MODEL = '''
class Search{i}(BaseModel):
    """Search collection number {i} (round {r})."""

    query: str = Field(description="The words to look for in collection {i}.")
    tags: list[str] = Field(description="Only return documents with all of these tags ({i}).")
    mode: Literal["fast_{r}_{i}", "exact_{r}_{i}"] = Field(description="How to match the query ({i}).")
    limit: Optional[int] = Field(None, description="At most this many results for {i}; all when omitted.")
    boost: float = Field(1.0, description="Weight of recent documents in {i}.")
'''

HEADER = "from typing import Literal, Optional\nfrom pydantic import BaseModel, Field\n"


def _define(template: str, prefix: str, r: int) -> list[Any]:
    namespace: dict[str, Any] = {}
    source = HEADER + "".join(template.format(i=i, r=r) for i in range(N))
    # dont_inherit: evaluate the annotations eagerly, as a module without the __future__ import does.
    exec(compile(source, f"<bench {prefix}>", "exec", dont_inherit=True), namespace)
    return [namespace[f"{prefix}{i}"] for i in range(N)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def main() -> None:
    """Print agentkit's time, the baselines and the ratio."""
    ours: list[float] = []
    base: list[float] = []
    base_with_models: list[float] = []
    for r in range(ROUNDS):
        functions = _define(FUNCTION, "search_", r)
        start = time.perf_counter()
        for function in functions:
            tool(function)
        ours.append(time.perf_counter() - start)

        start = time.perf_counter()
        models = _define(MODEL, "Search", r)
        middle = time.perf_counter()
        for model in models:
            pydantic_function_tool(model)
        end = time.perf_counter()
        base.append(end - middle)
        base_with_models.append(end - start)

    print(f"{N} functions with 5 typed parameters -> tool schemas ({ROUNDS} rounds, fresh types each round)")
    for label, times in (
        ("agentkit @tool", ours),
        ("openai.pydantic_function_tool (models prebuilt)", base),
        ("defining the models + pydantic_function_tool", base_with_models),
    ):
        print(f"{label:<50} first {_ms(times[0])}   median {_ms(statistics.median(times))}")
    ratio = statistics.median(ours) / statistics.median(base)
    print(f"ratio agentkit / pydantic_function_tool (median): {ratio:.2f}  (target: <= 100 ms for agentkit)")


if __name__ == "__main__":
    main()

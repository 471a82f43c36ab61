"""Time ``agentkit.tokens.count_tokens`` against plain tiktoken on the same conversations.

The workload is 200 conversations of 12 messages each (system prompt, user turns, assistant
answers, assistant ``tool_calls`` and ``tool`` results, unique text per message so no cache can
answer) plus 3 tool definitions, counted for gpt-4o (o200k_base) and gpt-3.5-turbo (cl100k_base).

Baseline, measured in the same run: tiktoken's own ``Encoding`` for the same encoding, seeded
offline (``TIKTOKEN_CACHE_DIR`` pointed at a temporary directory holding the encoding files from
the bpe-openai wheel under the names tiktoken looks for), encoding the same strings in the same
process: every message's role, content, name, tool call names and arguments, and the rendered tool
definitions, summed with the same fixed overheads. The ratio is count_tokens time / baseline time
(1.0 = as fast; the difference is the cost of walking the messages and rendering tools).

The first-use cost (loading and hash-checking an encoding) is reported separately.

Run: ``python benchmarks/bench_tokens.py``
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

N = 200
ROUNDS = 7
URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": f"tool_{k}",
            "description": f"Look something up in store number {k}.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for."},
                    "limit": {"type": "integer"},
                    "mode": {"type": "string", "enum": ["fast", "exact"]},
                },
                "required": ["query", "limit", "mode"],
                "additionalProperties": False,
            },
        },
    }
    for k in range(3)
]


def _conversation(i: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": f"You are assistant #{i}. Answer briefly and cite store numbers."}
    ]
    for turn in range(3):
        call_id = f"call_{i}_{turn}"
        arguments = json.dumps({"query": f"topic {i}-{turn} näive café", "limit": turn + i, "mode": "fast"})
        call = {"name": "tool_1", "arguments": arguments}
        messages += [
            {"role": "user", "content": f"Question {turn} of {i}: what about item {i * 7 + turn}?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": call_id, "type": "function", "function": call}],
            },
            {"role": "tool", "tool_call_id": call_id, "content": f"Result {i}/{turn}: " + "data " * turn},
        ]
    messages += [{"role": "assistant", "content": f"Here is what I found for {i}."}]
    messages += [{"role": "user", "content": f"Thanks, and one more thing about {i}?", "name": "ada"}]
    return messages


def _seed_tiktoken_cache() -> str:
    """Write the wheel's encoding files where tiktoken looks for its downloads; return the dir."""
    cache = tempfile.mkdtemp(prefix="tiktoken-cache-")
    dist = importlib.metadata.distribution("bpe-openai")
    for name, url in URLS.items():
        raw = gzip.decompress(Path(str(dist.locate_file(f"bpe_openai/data/{name}.tiktoken.gz"))).read_bytes())
        Path(cache, hashlib.sha1(url.encode()).hexdigest()).write_bytes(raw)
    return cache


def _best(fn: Any) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    os.environ["TIKTOKEN_CACHE_DIR"] = _seed_tiktoken_cache()
    import tiktoken

    from agentkit import tokens
    from agentkit.tokens import _render_tools, count_tokens

    conversations = [_conversation(i) for i in range(N)]
    rendered = _render_tools(TOOLS)
    print(f"{N} conversations x {len(conversations[0])} messages, {len(TOOLS)} tools; best of {ROUNDS}")
    for model, encoding in (("gpt-4o", "o200k_base"), ("gpt-3.5-turbo", "cl100k_base")):
        start = time.perf_counter()
        count_tokens([{"role": "user", "content": "warm up"}], model=model)
        first_ours = time.perf_counter() - start
        start = time.perf_counter()
        enc = tiktoken.get_encoding(encoding)
        enc.encode_ordinary("warm up")
        first_tiktoken = time.perf_counter() - start

        def ours(model: str = model) -> int:
            return sum(count_tokens(c, model=model, tools=TOOLS) for c in conversations)

        def baseline(enc: Any = enc) -> int:
            n = enc.encode_ordinary
            total = 0
            for conversation in conversations:
                total += 3 + len(n(rendered))
                for m in conversation:
                    total += 3 + len(n(m["role"])) + len(n(m["content"] or ""))
                    if "name" in m:
                        total += 1 + len(n(m["name"]))
                    for call in m.get("tool_calls", ()):
                        total += len(n(call["function"]["name"])) + len(n(call["function"]["arguments"]))
            return total

        ours_s, base_s = _best(ours), _best(baseline)
        per_conv = ours() / N
        print(
            f"{model:14} ({encoding}): count_tokens {ours_s * 1e3:7.2f} ms, tiktoken {base_s * 1e3:7.2f} ms, "
            f"ratio {ours_s / base_s:4.2f}  ({per_conv:.0f} tokens/conversation, "
            f"{N * per_conv / ours_s / 1e6:.2f} M tokens/s counted)"
        )
        print(
            f"{'':14}   first use: agentkit {first_ours * 1e3:6.0f} ms (incl. SHA-256 check), "
            f"tiktoken from seeded cache {first_tiktoken * 1e3:6.0f} ms"
        )
    tokens._encoding.cache_clear()


if __name__ == "__main__":
    main()

"""``agentkit replay CASSETTE``: print a recorded conversation as a readable transcript."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from .._wire.transcript import render_items
from ._format import load_interactions
from ._transcript import Turn, read_turns

# Items a request repeats from earlier replies; they were printed as replies already.
_ECHOES = ("function_call", "reasoning")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``replay`` subcommand's arguments."""
    parser.add_argument("cassette", type=Path, help="a cassette YAML file (agentkit's or stock vcrpy)")
    parser.add_argument("--full", action="store_true", help="do not shorten long messages")


def run(args: argparse.Namespace) -> int:
    """Print the transcript; return 0, or 2 (an input error) when the cassette cannot be read."""
    path: Path = args.cassette
    if not path.is_file():
        print(f"agentkit replay: error: no such cassette: {path}", file=sys.stderr)
        return 2
    try:
        interactions = load_interactions(str(path))
    except Exception as exc:  # a broken file is reported, not a traceback
        print(f"agentkit replay: error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    print_transcript(path, read_turns(interactions), sys.stdout, limit=None if args.full else 400)
    return 0


def _items(turn: Turn) -> list[Any]:
    body = turn.request if isinstance(turn.request, dict) else {}
    raw = body.get("messages", body.get("input")) or []
    return [{"role": "user", "content": raw}] if isinstance(raw, str) else list(raw)


def _response_id(turn: Turn) -> str | None:
    reply = turn.reply
    if isinstance(reply, dict):
        return str(reply["id"]) if reply.get("id") else None
    if isinstance(reply, str):
        for line in reversed(reply.splitlines()):
            if line.startswith("data:") and '"response.completed"' in line:
                return str(json.loads(line[5:]).get("response", {}).get("id") or "") or None
    return None


def conversations(turns: list[Turn]) -> list[list[int]]:
    """Group requests into conversations: a request continues the conversation whose last
    request its history starts with (or whose response it names as ``previous_response_id``).

    Returns:
        Lists of indices into ``turns``, in order of each conversation's first request.
    """
    groups: list[list[int]] = []
    for index, turn in enumerate(turns):
        body = turn.request if isinstance(turn.request, dict) else {}
        previous = body.get("previous_response_id")
        items = _items(turn)
        best: list[int] | None = None
        best_length = -1
        for group in groups:
            last = turns[group[-1]]
            if not (turn.is_model and last.is_model):
                continue
            if previous and previous == _response_id(last):
                best = group
                break
            known = _items(last)
            if len(known) > best_length and len(known) < len(items) and items[: len(known)] == known:
                best, best_length = group, len(known)
        if best is None:
            groups.append([index])
        else:
            best.append(index)
    return groups


def _indent(lines: list[str]) -> list[str]:
    return ["  " + line.replace("\n", "\n    ") for line in lines]


def _print_request(
    number: int, turn: Turn, shown: int, names: dict[str, str], out: TextIO, limit: int | None
) -> int:
    """Print one request and its reply; return how many history items the request had."""
    if not turn.is_model:
        print(f"\n── request {number}: {turn.method} {turn.uri} → HTTP {turn.status}", file=out)
        return 0
    body = turn.request if isinstance(turn.request, dict) else {}
    items = _items(turn)
    mode = "streamed" if body.get("stream") else "whole"
    tools = [t.get("name") or (t.get("function") or {}).get("name") for t in body.get("tools") or ()]
    print(f"\n── request {number}: {turn.method} {turn.endpoint} · {body.get('model')} · {mode}", file=out)
    if tools:
        print(f"  tools: {', '.join(str(t) for t in tools)}", file=out)
    for line in _indent(render_items(_new_items(body, items, shown), names, limit)):
        print(line, file=out)
    _print_reply(number, turn, names, out, limit)
    return len(items)


def _new_items(body: dict[str, Any], items: list[Any], shown: int) -> list[Any]:
    """What a request adds to its conversation: everything (and the instructions) for the first."""
    if shown == 0 or shown > len(items):
        instructions = body.get("instructions")
        return [{"role": "instructions", "content": instructions}, *items] if instructions else items
    # Replies the client sends back were printed as replies already.
    return [
        i
        for i in items[shown:]
        if not (isinstance(i, dict) and (i.get("type") in _ECHOES or i.get("role") == "assistant"))
    ]


def _print_reply(number: int, turn: Turn, names: dict[str, str], out: TextIO, limit: int | None) -> None:
    print(f"── reply {number}: HTTP {turn.status}", file=out)
    if turn.error is not None:
        error = turn.error
        print(f"  error {error.get('code') or error.get('type')}: {error.get('message')}", file=out)
        return
    reply: dict[str, Any] = {"role": "assistant", "content": turn.text}
    if turn.tool_calls:
        reply["tool_calls"] = [
            {"id": c.tool_call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in turn.tool_calls
        ]
    for line in _indent(render_items([reply], names, limit)):
        print(line, file=out)
    usage = turn.usage
    if usage.input_tokens or usage.output_tokens:
        text = (
            f"usage: {usage.input_tokens} input, {usage.output_tokens} output, "
            f"{usage.total_tokens} total tokens"
        )
        if usage.reasoning_tokens:
            text += f" ({usage.reasoning_tokens} reasoning)"
        print(f"  {text}", file=out)


def print_transcript(path: Path, turns: list[Turn], out: TextIO, limit: int | None = 400) -> None:
    """Write the conversations in ``turns`` to ``out``, each on its own."""
    groups = conversations(turns)
    several = len([g for g in groups if turns[g[0]].is_model]) > 1
    what = f", {len(groups)} conversations" if several else ""
    print(f"Cassette {path}: {len(turns)} request(s){what}", file=out)
    for number, group in enumerate(groups, 1):
        if several:
            numbers = ", ".join(str(i + 1) for i in group)
            print(f"\n══ conversation {number} (request{'s' if len(group) > 1 else ''} {numbers})", file=out)
        shown = 0
        names: dict[str, str] = {}
        for index in group:
            shown = _print_request(index + 1, turns[index], shown, names, out, limit)

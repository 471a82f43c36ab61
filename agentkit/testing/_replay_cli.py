"""``agentkit replay CASSETTE``: print a recorded conversation as a readable transcript."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

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


def _short(text: str, limit: int | None) -> str:
    text = text.strip()
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"… ({len(text)} chars)"
    # Continuation lines are indented under the speaker.
    return text.replace("\n", "\n    ")


def _content(content: Any) -> str:
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text") or part.get("refusal") or f"[{part.get('type')}]"))
        return "".join(parts)
    return "" if content is None else str(content)


def _print_item(item: Any, out: TextIO, limit: int | None) -> None:
    if not isinstance(item, dict):
        print(f"  {item!r}", file=out)
        return
    if item.get("role") == "tool":
        print(
            f"  tool result [{item.get('tool_call_id')}]: {_short(_content(item.get('content')), limit)}",
            file=out,
        )
    elif item.get("type") == "function_call_output":
        print(
            f"  tool result [{item.get('call_id')}]: {_short(_content(item.get('output')), limit)}", file=out
        )
    elif "role" in item:
        text = _short(_content(item.get("content")), limit)
        for call in item.get("tool_calls") or ():
            fn = call.get("function") or {}
            text += f" → {fn.get('name')}({fn.get('arguments')}) [{call.get('id')}]"
        print(f"  {item['role']}: {text}", file=out)
    else:
        print(f"  [{item.get('type')}]", file=out)


def _usage(usage: dict[str, Any]) -> str:
    prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
    completion = usage.get("completion_tokens", usage.get("output_tokens"))
    text = f"usage: {prompt} input, {completion} output, {usage.get('total_tokens')} total tokens"
    details = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
    if details.get("reasoning_tokens"):
        text += f" ({details['reasoning_tokens']} reasoning)"
    return text


def print_transcript(path: Path, turns: list[Turn], out: TextIO, limit: int | None = 400) -> None:
    """Write the conversation in ``turns`` to ``out``."""
    print(f"Cassette {path}: {len(turns)} request(s)", file=out)
    previous = 0
    for number, turn in enumerate(turns, 1):
        body = turn.request if isinstance(turn.request, dict) else {}
        raw = body.get("messages", body.get("input")) or []
        items: list[Any] = [{"role": "user", "content": raw}] if isinstance(raw, str) else list(raw)
        mode = "streamed" if body.get("stream") else "whole"
        tools = [t.get("name") or (t.get("function") or {}).get("name") for t in body.get("tools") or ()]
        print(f"\n── request {number}: POST {turn.endpoint} · {body.get('model')} · {mode}", file=out)
        if tools:
            print(f"  tools: {', '.join(str(t) for t in tools)}", file=out)
        if number == 1 or previous > len(items):
            if body.get("instructions"):
                print(f"  instructions: {_short(str(body['instructions']), limit)}", file=out)
            new_items = items
        else:
            new_items = [
                item
                for item in items[previous:]
                if not (
                    isinstance(item, dict)
                    and (item.get("type") in _ECHOES or item.get("role") == "assistant")
                )
            ]
        previous = len(items)
        for item in new_items:
            _print_item(item, out, limit)
        print(f"── reply {number}: HTTP {turn.status}", file=out)
        if turn.error is not None:
            print(
                f"  error {turn.error.get('code') or turn.error.get('type')}: {turn.error.get('message')}",
                file=out,
            )
            continue
        if turn.text:
            print(f"  assistant: {_short(turn.text, limit)}", file=out)
        for call in turn.tool_calls:
            arguments = call.parsed_arguments()
            shown = json.dumps(arguments, ensure_ascii=False) if not isinstance(arguments, str) else arguments
            print(f"  assistant → {call.name}({shown}) [{call.tool_call_id}]", file=out)
        if turn.usage:
            print(f"  {_usage(turn.usage)}", file=out)

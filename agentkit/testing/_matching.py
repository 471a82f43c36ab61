"""Match requests on what they mean, and explain drift as a readable diff.

Two requests match when they go to the same endpoint with the same canonical JSON body: keys
sorted, secrets scrubbed as in the file, volatile fields dropped (``user``, ``prompt_cache_key``,
``safety_identifier``, and any the cassette is told to ignore). Host and headers never matter,
so a cassette recorded against one base URL replays against another.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from ._format import decode_body
from ._scrub import scrub_value

__all__ = ["VOLATILE_FIELDS", "canonical", "drift_report", "endpoint", "matchers"]

VOLATILE_FIELDS = frozenset({"user", "prompt_cache_key", "safety_identifier"})
"""Top-level request fields that change between runs without changing the question."""

Matcher = Callable[[Any, Any], None]


def endpoint(uri: str) -> str:
    """The API endpoint of a URL, without host or version prefix: ``/chat/completions``."""
    path = urlsplit(uri).path
    if "/v1/" in path:
        path = "/" + path.split("/v1/", 1)[1]
    return path.rstrip("/") or "/"


def canonical(body: Any, ignore: Iterable[str] = ()) -> Any:
    """The body as parsed JSON, scrubbed, with volatile top-level fields removed.

    The recorded body was scrubbed on its way to disk, so the live one is scrubbed the same way
    before they are compared: a prompt or tool result that holds a secret-looking value still
    replays. Scrubbing is idempotent, so scrubbing the recorded body again changes nothing.
    """
    data = scrub_value(decode_body(body))
    if isinstance(data, dict):
        dropped = VOLATILE_FIELDS | set(ignore)
        return {k: v for k, v in data.items() if k not in dropped}
    return data


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


def matchers(mode: str, ignore: Sequence[str] = ()) -> list[Matcher]:
    """vcrpy matchers for a match mode.

    Args:
        mode: ``"body"`` (method, endpoint and canonical body) or ``"sequence"`` (method and
            endpoint only; interactions are then played in recorded order).
        ignore: More top-level body fields to leave out of the comparison.
    """

    def method(r1: Any, r2: Any) -> None:
        assert r1.method == r2.method, f"method {r1.method} != {r2.method}"

    def same_endpoint(r1: Any, r2: Any) -> None:
        assert endpoint(r1.uri) == endpoint(r2.uri), f"endpoint {endpoint(r1.uri)} != {endpoint(r2.uri)}"

    def body(r1: Any, r2: Any) -> None:
        assert canonical(r1.body, ignore) == canonical(r2.body, ignore), "body differs"

    if mode == "sequence":
        return [method, same_endpoint]
    if mode == "body":
        return [method, same_endpoint, body]
    raise ValueError(f"match must be 'body' or 'sequence', not {mode!r}")


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tool_name(tool: Any) -> str:
    if isinstance(tool, dict):
        fn = tool.get("function")
        name = fn.get("name") if isinstance(fn, dict) else tool.get("name")
        return str(name or tool.get("type") or "?")
    return "?"


def _diff_items(label: str, sent: list[Any], recorded: list[Any]) -> list[str]:
    for index, (s, r) in enumerate(zip(sent, recorded, strict=False)):
        if s != r:
            lines = [f"{label}[{index}] is the first {label} item that differs:"]
            lines += [f"  recorded: {_short(r)}", f"  sent:     {_short(s)}"]
            if isinstance(s, dict) and isinstance(r, dict):
                for key in sorted(set(s) | set(r)):
                    if s.get(key) != r.get(key):
                        lines.append(f"  first differing field: {key!r}")
                        break
            return lines
    if len(sent) != len(recorded):
        shorter = min(len(sent), len(recorded))
        extra = recorded[shorter:] if len(recorded) > len(sent) else sent[shorter:]
        who = "the recording has" if len(recorded) > len(sent) else "the request has"
        return [
            f"{label}: sent {len(sent)} items, recorded {len(recorded)}; "
            f"{who} more, from {label}[{shorter}]:",
            f"  {_short(extra[0])}",
        ]
    return []


def _diff_tools(sent: list[Any], recorded: list[Any]) -> list[str]:
    sent_by = {_tool_name(t): t for t in sent}
    recorded_by = {_tool_name(t): t for t in recorded}
    lines: list[str] = []
    if missing := [n for n in recorded_by if n not in sent_by]:
        lines.append(f"tools: recorded but not sent: {', '.join(missing)}")
    if added := [n for n in sent_by if n not in recorded_by]:
        lines.append(f"tools: sent but not recorded: {', '.join(added)}")
    for name in recorded_by:
        if name in sent_by and sent_by[name] != recorded_by[name]:
            lines.append(f"tools: the schema of {name!r} differs:")
            diff = difflib.unified_diff(
                _dump(recorded_by[name]).splitlines(),
                _dump(sent_by[name]).splitlines(),
                "recorded",
                "sent",
                lineterm="",
                n=1,
            )
            lines += ["  " + line for line in diff]
            break
    if not lines and [_tool_name(t) for t in sent] != [_tool_name(t) for t in recorded]:
        lines.append(f"tools: same tools in another order: sent {[_tool_name(t) for t in sent]}")
    return lines


def drift_report(sent: Any, recorded: Any, ignore: Iterable[str] = ()) -> str:
    """Explain how a request body differs from a recorded one, first difference first."""
    a, b = canonical(sent, ignore), canonical(recorded, ignore)
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return f"body differs:\n  recorded: {_short(b)}\n  sent:     {_short(a)}"
    lines: list[str] = []
    for key in ("model", "instructions"):
        if a.get(key) != b.get(key):
            lines.append(f"{key}: recorded {_short(b.get(key))}, sent {_short(a.get(key))}")
    for key in ("messages", "input"):
        if a.get(key) != b.get(key):
            sent_items, recorded_items = a.get(key), b.get(key)
            if isinstance(sent_items, list) and isinstance(recorded_items, list):
                lines += _diff_items(key, sent_items, recorded_items)
            else:
                lines.append(f"{key}: recorded {_short(recorded_items)}, sent {_short(sent_items)}")
    if a.get("tools") != b.get("tools"):
        lines += _diff_tools(list(a.get("tools") or []), list(b.get("tools") or []))
    skip = {"model", "instructions", "messages", "input", "tools"}
    for key in sorted((set(a) | set(b)) - skip):
        if a.get(key) != b.get(key):
            recorded_value = _short(b[key]) if key in b else "(absent)"
            sent_value = _short(a[key]) if key in a else "(absent)"
            lines.append(f"{key}: recorded {recorded_value}, sent {sent_value}")
    return "\n".join(lines) or "the bodies differ only in ways that do not show in JSON"

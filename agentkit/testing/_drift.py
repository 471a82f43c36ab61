"""Explain a request that matches no recording: which recording it most resembles, and how it differs.

The report names the first differing message (or field) and shows the difference itself: a
unified diff, with context, of the differing field for multi-line text and JSON values, and the
differing region of a single long line. Nothing is cut at a fixed prefix, so a change in rule 40
of an 80-rule system prompt shows rule 40.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ._matching import canonical, endpoint

__all__ = ["drift_report", "explain", "most_similar"]

_CONTEXT_LINES = 2
_CONTEXT_CHARS = 50
_SHORT = 100


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _indent(lines: Iterable[str], prefix: str = "  ") -> list[str]:
    return [prefix + line for line in lines]


def _line_diff(recorded: str, sent: str) -> list[str]:
    """The differing region of one long line, with some context either side."""
    start = 0
    while start < min(len(recorded), len(sent)) and recorded[start] == sent[start]:
        start += 1
    end = 0
    while end < min(len(recorded), len(sent)) - start and recorded[-1 - end] == sent[-1 - end]:
        end += 1

    def window(text: str) -> str:
        left = max(0, start - _CONTEXT_CHARS)
        right = min(len(text), len(text) - end + _CONTEXT_CHARS)
        return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")

    return [
        f"first difference at character {start + 1} (recorded {len(recorded)}, sent {len(sent)} characters):",
        f"- recorded: {window(recorded)}",
        f"+ sent:     {window(sent)}",
    ]


def text_diff(recorded: str, sent: str) -> list[str]:
    """A diff of two texts: unified, with context, when they have several lines."""
    if "\n" in recorded or "\n" in sent:
        return list(
            difflib.unified_diff(
                recorded.splitlines(), sent.splitlines(), "recorded", "sent", lineterm="", n=_CONTEXT_LINES
            )
        )
    return _line_diff(recorded, sent)


def value_diff(recorded: Any, sent: Any) -> list[str]:
    """A diff of two JSON values: text diff for strings, a unified diff of indented JSON otherwise."""
    if isinstance(recorded, str) and isinstance(sent, str):
        return text_diff(recorded, sent)
    return text_diff(_dump(recorded), _dump(sent))


def _field(
    label: str, recorded: Any, sent: Any, *, absent_recorded: bool = False, absent_sent: bool = False
) -> list[str]:
    r = "(absent)" if absent_recorded else _short(recorded)
    s = "(absent)" if absent_sent else _short(sent)
    if absent_recorded or absent_sent or (len(r) <= _SHORT and len(s) <= _SHORT):
        return [f"{label}: recorded {r}, sent {s}"]
    return [f"{label} differs:", *_indent(value_diff(recorded, sent))]


def _diff_items(label: str, sent: list[Any], recorded: list[Any]) -> list[str]:
    for index, (s, r) in enumerate(zip(sent, recorded, strict=False)):
        if s == r:
            continue
        lines = [f"{label}[{index}] is the first {label} item that differs:"]
        if isinstance(s, dict) and isinstance(r, dict):
            for key in sorted(set(s) | set(r)):
                if s.get(key) != r.get(key):
                    lines += _indent(
                        _field(
                            repr(key),
                            r.get(key),
                            s.get(key),
                            absent_recorded=key not in r,
                            absent_sent=key not in s,
                        )
                    )
        else:
            lines += _indent(value_diff(r, s))
        return lines
    shorter = min(len(sent), len(recorded))
    extra = recorded[shorter:] if len(recorded) > len(sent) else sent[shorter:]
    who = "the recording has" if len(recorded) > len(sent) else "the request has"
    return [
        f"{label}: sent {len(sent)} items, recorded {len(recorded)}; {who} more, from {label}[{shorter}]:",
        f"  {_short(extra[0])}",
    ]


def _tool_name(tool: Any) -> str:
    if isinstance(tool, dict):
        fn = tool.get("function")
        name = fn.get("name") if isinstance(fn, dict) else tool.get("name")
        return str(name or tool.get("type") or "?")
    return "?"


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
            lines += _indent(value_diff(recorded_by[name], sent_by[name]))
    if not lines and [_tool_name(t) for t in sent] != [_tool_name(t) for t in recorded]:
        lines.append(f"tools: same tools in another order: sent {[_tool_name(t) for t in sent]}")
    return lines


def drift_report(sent: Any, recorded: Any, ignore: Iterable[str] = ()) -> str:
    """Explain how a request body differs from a recorded one, first difference first."""
    a, b = canonical(sent, ignore), canonical(recorded, ignore)
    if not (isinstance(a, dict) and isinstance(b, dict)):
        if isinstance(a, str) and isinstance(b, str):
            return "\n".join(["body differs:", *_indent(text_diff(b, a))])
        return "\n".join(["body differs:", *_indent(value_diff(b, a))])
    lines: list[str] = []
    for key in ("messages", "input"):
        if a.get(key) != b.get(key):
            sent_items, recorded_items = a.get(key), b.get(key)
            if isinstance(sent_items, list) and isinstance(recorded_items, list):
                lines += _diff_items(key, sent_items, recorded_items)
            else:
                lines += _field(key, recorded_items, sent_items)
    if a.get("tools") != b.get("tools"):
        lines += _diff_tools(list(a.get("tools") or []), list(b.get("tools") or []))
    for key in sorted((set(a) | set(b)) - {"messages", "input", "tools"}):
        if a.get(key) != b.get(key):
            lines += _field(
                key, b.get(key), a.get(key), absent_recorded=key not in b, absent_sent=key not in a
            )
    return "\n".join(lines) or "the bodies differ only in ways that do not show in JSON"


def _similarity(sent: Any, recorded: Any, ignore: Iterable[str]) -> tuple[float, float]:
    """How alike two bodies are: the share of equal lines, then how alike the differing lines are.

    The second figure separates recordings that each differ in one line ("customer 3" against
    "customer 0" and "customer 3, thanks"), and stays cheap for long bodies.
    """
    a = _dump(canonical(sent, ignore)).splitlines()
    b = _dump(canonical(recorded, ignore)).splitlines()
    lines = difflib.SequenceMatcher(None, a, b, autojunk=False)
    changed_a, changed_b = [], []
    for tag, i1, i2, j1, j2 in lines.get_opcodes():
        if tag != "equal":
            changed_a += a[i1:i2]
            changed_b += b[j1:j2]
    chars = difflib.SequenceMatcher(None, "\n".join(changed_a), "\n".join(changed_b), autojunk=False)
    return lines.ratio(), chars.ratio()


def most_similar(
    request: Any, candidates: Sequence[tuple[int, Any]], ignore: Iterable[str] = ()
) -> tuple[int, Any]:
    """The ``(index, recorded request)`` whose body most resembles ``request``'s; the first on ties.

    Concurrent conversations interleave in a cassette, so the next unplayed recording is often
    another conversation's; the most similar one is the same conversation.
    """
    return max(candidates, key=lambda c: (_similarity(request.body, c[1].body, ignore), -c[0]))


def explain(path: Any, request: Any, interactions: list[tuple[int, Any]], ignore: Iterable[str] = ()) -> str:
    """The message of a ``RequestMismatchError``.

    Args:
        path: The cassette file.
        request: The vcrpy request that matched nothing.
        interactions: ``(times played, recorded request)`` for every interaction in the cassette.
        ignore: Body fields left out of matching.
    """
    where = f"{request.method} {endpoint(request.uri)}"
    head = f"Cassette {path}: no recorded interaction matches {where}."
    same = [
        (i, r)
        for i, (_, r) in enumerate(interactions)
        if r.method == request.method and endpoint(r.uri) == endpoint(request.uri)
    ]
    unplayed = [(i, r) for i, r in same if not interactions[i][0]]
    if not same:
        body = f"The cassette has {len(interactions)} interactions, none to that endpoint."
    else:
        index, recorded = most_similar(request, unplayed or same, ignore)
        state = "not played yet" if unplayed else f"already played; all {len(same)} to that endpoint were"
        diff = drift_report(request.body, recorded.body, ignore)
        body = f"Compared with the most similar recording (interaction #{index + 1}, {state}):\n{diff}"
    hint = (
        "If the change is intended, re-record: pytest --agentkit-record=drifted, "
        "or cassette(..., record='drifted')."
    )
    return f"{head}\n{body}\n{hint}"

"""Model output is normalised here, once, whatever server sent it.

OpenAI-compatible servers (vLLM, Ollama, LiteLLM, Gemini's OpenAI endpoint, Azure) send shapes
api.openai.com does not: tool-call deltas without ``index``, the same ``index`` reused for a
second call, calls without an ``id`` or with one id for two calls, a stream that stops without a
``finish_reason``. Both wire formats, streamed and whole, go through these functions.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from .._result import ToolCall, Usage
from ..exceptions import StreamInterruptedError


def unique_ids(calls: list[ToolCall]) -> list[ToolCall]:
    """Give every call of one reply a non-empty id that no other call of the reply has.

    Ids are kept when they are already unique; otherwise ``<id or "call">_<position>`` is used, so
    the assistant message and the results always agree and no call runs twice.
    """
    seen: set[str] = set()
    out: list[ToolCall] = []
    for position, call in enumerate(calls):
        new_id = call.tool_call_id
        if not new_id or new_id in seen:
            new_id = f"{call.tool_call_id or 'call'}_{position}"
            while new_id in seen:
                new_id += "_"
        seen.add(new_id)
        out.append(call if new_id == call.tool_call_id else replace(call, tool_call_id=new_id))
    return out


def _is_complete_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


class ToolCallAssembler:
    """Reassembles streamed Chat Completions tool-call deltas into whole calls, in arrival order.

    A delta continues the call at its ``index`` (the last call when ``index`` is missing or
    ``null``). A delta with a *different* non-empty id starts a new call when the current call's
    arguments already parse as complete JSON or the delta carries a function name; otherwise the
    id is taken as a server repeating (or renaming) the id on every fragment.
    """

    def __init__(self) -> None:
        self._calls: list[dict[str, Any]] = []
        self._by_index: dict[Any, dict[str, Any]] = {}

    def add(self, delta: dict[str, Any]) -> None:
        """Fold one ``tool_calls`` delta entry in."""
        index = delta.get("index")
        function = delta.get("function") or {}
        call_id = delta.get("id") or ""
        name = function.get("name") or ""
        current = (
            self._by_index.get(index) if index is not None else (self._calls[-1] if self._calls else None)
        )
        if current is None or self._starts_new(current, call_id, name):
            current = {"id": call_id, "name": "", "arguments": []}
            self._calls.append(current)
            self._by_index[index] = current
        if call_id and not current["id"]:
            current["id"] = call_id
        # OpenAI sends the name once; some compatible servers repeat it whole on every fragment.
        if name and name != current["name"]:
            current["name"] += name
        if function.get("arguments"):
            current["arguments"].append(function["arguments"])

    @staticmethod
    def _starts_new(current: dict[str, Any], call_id: str, name: str) -> bool:
        if not call_id or not current["id"] or call_id == current["id"]:
            return False
        return bool(name) or _is_complete_json("".join(current["arguments"]))

    def calls(self) -> list[ToolCall]:
        """The assembled calls, ids made unique."""
        return unique_ids([ToolCall(c["id"], c["name"], "".join(c["arguments"])) for c in self._calls])


def responses_calls(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[ToolCall]]:
    """Read the function calls of Responses output items, making their ``call_id``s unique.

    Returns:
        The items (a ``function_call`` whose id had to change is copied with the new id) and
        the calls in order.
    """
    raw = [
        (
            i,
            ToolCall(
                str(item.get("call_id") or ""), str(item.get("name") or ""), item.get("arguments") or ""
            ),
        )
        for i, item in enumerate(items)
        if item.get("type") == "function_call"
    ]
    calls = unique_ids([c for _, c in raw])
    items = list(items)
    for (i, before), after in zip(raw, calls, strict=True):
        if before.tool_call_id != after.tool_call_id or "call_id" not in items[i]:
            items[i] = {**items[i], "call_id": after.tool_call_id}
    return items, calls


def chat_calls(message: dict[str, Any]) -> list[ToolCall]:
    """Read the function calls of a whole Chat Completions message, ids made unique."""
    calls = []
    for tc in message.get("tool_calls") or ():
        if tc.get("type", "function") != "function":
            continue
        function = tc.get("function") or {}
        calls.append(
            ToolCall(
                str(tc.get("id") or ""), str(function.get("name") or ""), function.get("arguments") or ""
            )
        )
    return unique_ids(calls)


async def guarded(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """Yield the decoded events of an SDK stream, turning a broken stream into one error.

    Raises:
        StreamInterruptedError: An event is not JSON, or the connection broke mid-stream.
        openai.OpenAIError: The server sent an ``error`` event (the SDK's own error, unchanged).
    """
    from openai import OpenAIError

    try:
        async for chunk in chunks:
            yield chunk
    except OpenAIError:
        raise
    except Exception as exc:
        raise StreamInterruptedError(
            f"The stream broke off: {type(exc).__name__}: {exc}", messages=[], usage=Usage()
        ) from exc


def interrupted(what: str) -> StreamInterruptedError:
    """The error for a stream that ended cleanly but early."""
    return StreamInterruptedError(f"The stream ended before {what}.", messages=[], usage=Usage())

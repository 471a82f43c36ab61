"""Turn recorded conversations into training examples: sessions, run results, cassettes.

One supervised example per conversation, in the chat format with tools::

    {"messages": [system, user, assistant(tool_calls), tool, ..., assistant],
     "tools": [{"type": "function", "function": {...}}], "parallel_tool_calls": true}
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..exceptions import AgentkitError, UserError
from ..sessions import Session
from ._convert import canonical, chat_messages, chat_tools, scrub_message

logger = logging.getLogger("agentkit.finetune")

__all__ = ["Conversation", "WeightRule", "export_examples", "is_failed_result", "write_jsonl"]

WeightRule = Literal["failed_attempts", "last"] | Callable[[list[dict[str, Any]], int], int]
"""How to set the per-assistant ``weight`` (0 = context only, 1 = trained on).

- ``"failed_attempts"``: 0 on an assistant message whose tool calls failed (their results are
  agentkit's error texts: ``Error: ...``, ``Invalid arguments for tool ...``, ``Unknown tool ...``),
  1 on the others: the failed attempt stays as context without being learned.
- ``"last"``: 1 on the final assistant message only.
- A callable ``(messages, index) -> 0 | 1`` called for each assistant message.
"""

# The texts agentkit's dispatcher sends back for a failed call (agentkit/_dispatch.py).
_FAILED_PREFIXES = ("Error:", "Invalid arguments for tool", "Unknown tool")


def is_failed_result(content: Any) -> bool:
    """Whether a tool message's content is one of agentkit's failure texts."""
    return isinstance(content, str) and content.startswith(_FAILED_PREFIXES)


@dataclass
class Conversation:
    """One conversation read from a source, before it becomes an example."""

    messages: list[dict[str, Any]]
    """Chat messages, the system prompt first when there is one."""
    tools: list[dict[str, Any]] | None
    """Tools in the training format, or ``None`` when the source does not say."""
    parallel_tool_calls: bool | None = None
    """The request's ``parallel_tool_calls``, when known."""
    origin: str = ""
    """Where it came from (session id, cassette path), for log messages."""

    @property
    def succeeded(self) -> bool:
        """It ends with a final answer: an assistant message without tool calls."""
        last = self.messages[-1] if self.messages else {}
        return last.get("role") == "assistant" and not last.get("tool_calls")

    @property
    def used_tools(self) -> bool:
        """The assistant made at least one tool call."""
        return any(m.get("tool_calls") for m in self.messages)


Source = Any
"""A ``Session``, a ``RunResult``, a ``RunError`` (its partial transcript), or a cassette path."""


async def export_examples(
    sources: Source | Iterable[Source],
    *,
    agent: Any = None,
    instructions: str | None = None,
    tools: Sequence[Any] | None = None,
    parallel_tool_calls: bool | None = None,
    successful_only: bool = False,
    with_tool_calls_only: bool = False,
    dedupe: bool = True,
    weights: WeightRule | None = None,
    scrub: bool = True,
) -> list[dict[str, Any]]:
    """Return one supervised training example per conversation found in ``sources``.

    Args:
        sources: A ``Session`` (any backend: the whole thread is one conversation), a
            ``RunResult``, a ``RunError`` (its partial transcript), the path of a cassette (every
            conversation recorded in it), or an iterable of these.
        agent: Take ``instructions``, ``tools`` and ``parallel_tool_calls`` from this agent.
            Sessions and results do not store them; cassettes do (the request has them), and
            the recorded values win.
        instructions: The system prompt to put first (overrides ``agent.instructions``).
        tools: ``Tool`` objects or API tool params (override ``agent.tools``).
        parallel_tool_calls: Written to every example when not ``None``.
        successful_only: Keep conversations that end with a final answer only.
        with_tool_calls_only: Keep conversations in which the model called a tool only.
        dedupe: Drop examples identical to an earlier one (same messages and tools).
        weights: Set a ``weight`` on each assistant message, see :data:`WeightRule`.
        scrub: Redact secrets (API keys, bearer tokens, ``password=...``) in contents and
            arguments with agentkit's shared redaction.

    Returns:
        Examples, in source order, ready for :func:`write_jsonl`.

    Raises:
        UserError: A source is of an unsupported type.
        AgentkitError: A cassette cannot be read (its path is in the message).
    """
    if agent is not None:
        instructions = agent.instructions if instructions is None else instructions
        tools = list(agent.tools) if tools is None else tools
        parallel_tool_calls = (
            agent.parallel_tool_calls if parallel_tool_calls is None else parallel_tool_calls
        )
    default_tools = chat_tools(tools) if tools else None
    if isinstance(sources, (str, os.PathLike)) or not isinstance(sources, Iterable):
        sources = [sources]

    def wanted(conversation: Conversation) -> bool:
        return (conversation.succeeded or not successful_only) and (
            conversation.used_tools or not with_tool_calls_only
        )

    examples: list[dict[str, Any]] = []
    seen: set[bytes] = set()
    for source in sources:
        for conversation in filter(wanted, await _conversations(source, instructions)):
            example = _example(conversation, default_tools, parallel_tool_calls, weights, scrub)
            digest = hashlib.blake2b(canonical(example).encode(), digest_size=16).digest()
            if dedupe and digest in seen:
                continue
            seen.add(digest)
            examples.append(example)
    return examples


def _example(
    conversation: Conversation,
    default_tools: list[dict[str, Any]] | None,
    parallel_tool_calls: bool | None,
    weights: WeightRule | None,
    scrub: bool,
) -> dict[str, Any]:
    messages = [scrub_message(m) if scrub else dict(m) for m in conversation.messages]
    if weights is not None:
        _apply_weights(messages, weights)
    example: dict[str, Any] = {"messages": messages}
    tools = conversation.tools if conversation.tools is not None else default_tools
    if tools:
        example["tools"] = tools
    parallel = conversation.parallel_tool_calls if parallel_tool_calls is None else parallel_tool_calls
    if parallel is not None and tools:
        example["parallel_tool_calls"] = parallel
    return example


def _apply_weights(messages: list[dict[str, Any]], rule: WeightRule) -> None:
    assistant = [i for i, m in enumerate(messages) if m.get("role") == "assistant"]
    if rule == "last":
        for i in assistant:
            messages[i]["weight"] = 1 if i == assistant[-1] else 0
    elif rule == "failed_attempts":
        results = {m.get("tool_call_id"): m.get("content") for m in messages if m.get("role") == "tool"}
        for i in assistant:
            calls = messages[i].get("tool_calls") or ()
            failed = any(is_failed_result(results.get(tc["id"])) for tc in calls)
            messages[i]["weight"] = 0 if failed else 1
    elif callable(rule):
        for i in assistant:
            value = rule(messages, i)
            if value not in (0, 1):
                raise UserError(f"A weight rule must return 0 or 1, not {value!r}.")
            messages[i]["weight"] = int(value)
    else:
        raise UserError(f"weights must be 'failed_attempts', 'last' or a callable, not {rule!r}.")


async def _conversations(source: Source, instructions: str | None) -> list[Conversation]:
    system = [{"role": "system", "content": instructions}] if instructions else []
    if isinstance(source, (str, os.PathLike)):
        return read_cassette(source)
    if isinstance(source, Session):
        items = await source.load()
        return [Conversation(system + chat_messages(items), None, origin=f"session {source.session_id}")]
    messages = getattr(source, "messages", None)
    if isinstance(messages, list):  # RunResult, or a RunError with its partial transcript
        return [Conversation(system + chat_messages(messages), None, origin=type(source).__name__)]
    raise UserError(
        f"Cannot export from {type(source).__name__}: "
        "pass a Session, a RunResult, a RunError or a cassette path."
    )


def read_cassette(path: str | os.PathLike[str]) -> list[Conversation]:
    """Return every conversation recorded in a cassette, with its system prompt and tools.

    Each Chat Completions request carries the whole history, so a conversation is a request
    plus its reply that no later request continues. Responses requests that chain with
    ``previous_response_id`` do not carry their history and are skipped (logged).

    Raises:
        AgentkitError: The file is missing or is not a cassette.
    """
    # The cassette reader of agentkit.testing (the same one ``agentkit replay`` uses).
    from ..testing._format import load_interactions
    from ..testing._transcript import read_turns

    try:
        turns = read_turns(load_interactions(str(path)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AgentkitError(f"Cannot read cassette {path}: {exc}") from exc
    found: list[Conversation] = []
    for turn in turns:
        body = turn.request if isinstance(turn.request, dict) else {}
        if turn.error is not None or turn.status >= 400 or not body:
            continue
        if body.get("previous_response_id"):
            logger.info("%s: skipped a request chained with previous_response_id", path)
            continue
        if turn.endpoint.endswith("/responses"):
            history: list[dict[str, Any]] = []
            if body.get("instructions"):
                history.append({"role": "system", "content": body["instructions"]})
            given = body.get("input")
            history += chat_messages(
                [{"role": "user", "content": given}] if isinstance(given, str) else given or []
            )
        else:
            history = chat_messages(body.get("messages") or [])
        reply: dict[str, Any] = {"role": "assistant", "content": turn.text}
        if turn.tool_calls:
            reply["tool_calls"] = [
                {"id": c.tool_call_id, "type": "function", "function": {"name": c.name, "arguments": args}}
                for c in turn.tool_calls
                for args in [c.arguments]
            ]
        tools = chat_tools(body["tools"]) if body.get("tools") else None
        found.append(Conversation([*history, reply], tools, body.get("parallel_tool_calls"), str(path)))
    # Keep a conversation only when no later request continues it.
    keys = [[_key(m) for m in c.messages] for c in found]
    return [
        c
        for i, c in enumerate(found)
        if not any(
            len(keys[j]) > len(keys[i]) and keys[j][: len(keys[i])] == keys[i]
            for j in range(i + 1, len(found))
        )
    ]


def _key(message: dict[str, Any]) -> str:
    """Compare messages as data: a client may re-serialize the arguments it was sent."""
    calls = []
    for tc in message.get("tool_calls") or ():
        try:
            args = json.loads(tc["function"]["arguments"])
        except ValueError:
            args = tc["function"]["arguments"]
        calls.append((tc["id"], tc["function"]["name"], args))
    return canonical({**message, "tool_calls": calls})


def write_jsonl(examples: Iterable[dict[str, Any]], path: str | os.PathLike[str]) -> int:
    """Write one example per line (UTF-8, no ASCII escaping); return how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as f:
        for example in examples:
            f.write(json.dumps(example, ensure_ascii=False) + "\n")
            count += 1
    return count

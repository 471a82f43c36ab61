"""The checks on one training example, each a named kind of problem.

The published checks are those of OpenAI's cookbook notebook "Data preparation and analysis for
chat model fine-tuning" (openai/openai-cookbook, examples/Chat_finetuning_data_prep.ipynb, read
2026-11-29): ``data_type``, ``missing_messages_list``, ``message_missing_key``,
``message_unrecognized_key``, ``unrecognized_role``, ``missing_content``,
``example_missing_assistant_message``, the missing system/user message warnings and the token
limit. They predate tools; here they are corrected for tool calling (an assistant message with
``tool_calls`` needs no content, ``tool`` is a role, ``tool_calls``/``tool_call_id`` are keys)
and the tool-calling rules are added.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ._arguments import Validator

__all__ = ["ERROR_KINDS", "WARNING_KINDS", "Problem", "check_example", "check_preference"]

Severity = Literal["error", "warning"]

ERROR_KINDS: dict[str, str] = {
    "invalid_json": "the line is not valid JSON",
    "data_type": "the line is not a JSON object",
    "missing_messages_list": "no non-empty 'messages' list",
    "message_missing_key": "a message lacks 'role' or a required 'content' / 'tool_call_id'",
    "message_unrecognized_key": "a message has a key its role does not take",
    "unrecognized_role": "a role other than system, developer, user, assistant, tool",
    "missing_content": "content is empty or not a string / list of parts",
    "example_missing_assistant_message": "no assistant message",
    "last_message_not_assistant": "the example does not end with an assistant message",
    "invalid_weight": "weight is not 0 or 1",
    "weight_not_on_assistant": "weight on a message that is not from the assistant",
    "invalid_tools": "'tools' is not a list of function tools",
    "invalid_parallel_tool_calls": "'parallel_tool_calls' is not a boolean",
    "invalid_tool_call": "a tool call lacks its id, type 'function' or function name",
    "duplicate_tool_call_id": "two tool calls share an id",
    "arguments_not_string": "tool-call arguments are not a JSON string",
    "arguments_invalid_json": "tool-call arguments do not parse as JSON",
    "arguments_schema": "tool-call arguments do not fit the tool's parameters schema",
    "unknown_tool": "a tool call names a function missing from 'tools'",
    "orphan_tool_message": "a tool message answers no earlier, unanswered call",
    "unanswered_tool_call": "a tool call has no tool message answering it",
    "invalid_preference": "a DPO line lacks 'input' or one-assistant-message outputs",
    "too_many_tokens": "the example is over the token limit (training would truncate it)",
    "too_few_examples": "fewer examples than the API's minimum",
    "train_validation_overlap": "the same example is in the training and the validation file",
    "model_not_fine_tunable": "the model cannot be fine-tuned (agentkit.models: supports_fine_tuning)",
}
"""Every error kind and what it means."""

WARNING_KINDS: dict[str, str] = {
    "missing_system_message": "no system message",
    "missing_user_message": "no user message",
    "duplicate_example": "the same example appears earlier in the file",
    "tokens_not_counted": "a part the offline tokenizer cannot count (an image): left out of the token stats",
}
"""Kinds reported without failing the file."""

_ROLES = {"system", "developer", "user", "assistant", "tool"}
_KEYS = {
    "system": {"role", "content", "name", "weight"},
    "developer": {"role", "content", "name", "weight"},
    "user": {"role", "content", "name", "weight"},
    "assistant": {"role", "content", "name", "tool_calls", "weight", "refusal", "function_call"},
    "tool": {"role", "content", "tool_call_id", "weight"},
}


@dataclass(frozen=True)
class Problem:
    """One problem found in a file."""

    line: int
    """1-based line number; 0 for the whole file."""
    kind: str
    """A key of ``ERROR_KINDS`` or ``WARNING_KINDS``."""
    message: str
    """What is wrong, with the message index when there is one."""
    severity: Severity = "error"
    """``"error"`` fails the file; ``"warning"`` does not."""
    file: str = ""
    """The file, when it is not the training file (the validation file)."""


def _content_ok(content: Any) -> bool:
    if isinstance(content, str):
        return bool(content.strip())
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(p, dict) and "type" in p for p in content)
    )


def _tool_schemas(
    tools: Any, line: int, out: list[Problem], validator: Callable[[Any], Validator]
) -> dict[str, Validator | None] | None:
    """Map each tool name to a validator of its arguments; ``None`` when ``tools`` is invalid."""
    if not isinstance(tools, list):
        out.append(Problem(line, "invalid_tools", "'tools' must be a list"))
        return None
    found: dict[str, Validator | None] = {}
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(tool, dict)
            or tool.get("type") != "function"
            or not isinstance(fn, dict)
            or not isinstance(fn.get("name"), str)
        ):
            out.append(
                Problem(
                    line,
                    "invalid_tools",
                    f"tools[{i}] is not {{'type': 'function', 'function': {{'name': ...}}}}",
                )
            )
            return None
        params = fn.get("parameters")
        try:
            found[fn["name"]] = validator(params) if params is not None else None
        except ValueError as exc:
            out.append(
                Problem(
                    line,
                    "invalid_tools",
                    f"tools[{i}] ({fn['name']}) has an invalid parameters schema: {exc}",
                )
            )
            return None
    return found


def _check_call(
    tc: Any, where: str, line: int, tools: dict[str, Validator | None] | None, out: list[Problem]
) -> str | None:
    """Check one tool call; return its id when it is well formed."""
    fn = tc.get("function") if isinstance(tc, dict) else None
    if (
        not isinstance(tc, dict)
        or not tc.get("id")
        or tc.get("type") != "function"
        or not isinstance(fn, dict)
        or not fn.get("name")
    ):
        out.append(
            Problem(
                line,
                "invalid_tool_call",
                f"{where}: a tool call needs 'id', 'type': 'function' and 'function.name'",
            )
        )
        # A malformed call with an id is still answered by its tool message: no second report.
        return str(tc["id"]) if isinstance(tc, dict) and tc.get("id") else None
    name, args = fn["name"], fn.get("arguments")
    if tools is not None and name not in tools:
        out.append(Problem(line, "unknown_tool", f"{where}: {name!r} is not in 'tools'"))
    if not isinstance(args, str):
        out.append(
            Problem(
                line,
                "arguments_not_string",
                f"{where}: arguments of {name!r} are a JSON {type(args).__name__}, not a string",
            )
        )
    else:
        try:
            parsed = json.loads(args)
        except ValueError as exc:
            out.append(
                Problem(
                    line, "arguments_invalid_json", f"{where}: arguments of {name!r} are not JSON ({exc})"
                )
            )
        else:
            check = tools.get(name) if tools is not None else None
            if check is not None:
                errors = check(parsed)
                if errors:
                    out.append(
                        Problem(line, "arguments_schema", f"{where}: arguments of {name!r}: {errors[0]}")
                    )
    return str(tc["id"])


def _check_shape(m: dict[str, Any], role: str, where: str, line: int, out: list[Problem]) -> list[Any] | None:
    """Keys, weight and content of one message; return its well-formed ``tool_calls``, if any."""
    extra = sorted(set(m) - _KEYS[role])
    if extra:
        out.append(
            Problem(line, "message_unrecognized_key", f"{where} ({role}) has unrecognized key(s) {extra}")
        )
    if "weight" in m:
        if role != "assistant":
            out.append(Problem(line, "weight_not_on_assistant", f"{where} is a {role} message with a weight"))
        elif m["weight"] not in (0, 1) or isinstance(m["weight"], bool):
            out.append(Problem(line, "invalid_weight", f"{where} has weight {m['weight']!r}; use 0 or 1"))
    calls = m.get("tool_calls") if role == "assistant" else None
    if calls is not None and (not isinstance(calls, list) or not calls):
        out.append(Problem(line, "invalid_tool_call", f"{where}: 'tool_calls' must be a non-empty list"))
        calls = None
    content = m.get("content")
    if "content" not in m and not calls:
        out.append(Problem(line, "message_missing_key", f"{where} ({role}) has no 'content'"))
    elif not calls and not _content_ok(content):
        out.append(Problem(line, "missing_content", f"{where} ({role}) has empty or non-text content"))
    elif calls and content is not None and not isinstance(content, (str, list)):
        out.append(Problem(line, "missing_content", f"{where} (assistant) content must be a string or null"))
    return calls


class _Pairing:
    """Tool calls waiting for their tool message, within one example."""

    def __init__(self, line: int, out: list[Problem]) -> None:
        self.line, self.out = line, out
        self.pending: dict[str, str] = {}
        self.answered: set[str] = set()

    def call(self, call_id: str, tc: dict[str, Any], where: str) -> None:
        if call_id in self.pending or call_id in self.answered:
            self.out.append(
                Problem(
                    self.line, "duplicate_tool_call_id", f"{where}: tool call id {call_id!r} is used twice"
                )
            )
        self.pending[call_id] = str((tc.get("function") or {}).get("name", ""))

    def result(self, m: dict[str, Any], where: str) -> None:
        call_id = m.get("tool_call_id")
        if not call_id:
            self.out.append(
                Problem(self.line, "message_missing_key", f"{where} (tool) has no 'tool_call_id'")
            )
        elif call_id not in self.pending:
            message = f"{where} answers {call_id!r}, which no earlier unanswered call has"
            self.out.append(Problem(self.line, "orphan_tool_message", message))
        else:
            del self.pending[call_id]
            self.answered.add(call_id)

    def close(self, prefix: str) -> None:
        for call_id, name in self.pending.items():
            message = f"{prefix}call {call_id!r} to {name!r} is never answered"
            self.out.append(Problem(self.line, "unanswered_tool_call", message))


def _role(m: Any, where: str, line: int, out: list[Problem]) -> str | None:
    """The message's role when it is a known one; otherwise report why not."""
    if not isinstance(m, dict):
        out.append(Problem(line, "data_type", f"{where} is not an object"))
        return None
    role = m.get("role")
    if role is None:
        out.append(Problem(line, "message_missing_key", f"{where} has no 'role'"))
    elif role not in _ROLES:
        out.append(Problem(line, "unrecognized_role", f"{where} has role {role!r}"))
        return None
    return role


def _check_messages(
    messages: list[Any],
    line: int,
    tools: dict[str, Validator | None] | None,
    out: list[Problem],
    *,
    prefix: str = "",
) -> None:
    """The per-message checks, and the pairing of tool calls with tool messages."""
    pairing = _Pairing(line, out)
    for i, m in enumerate(messages):
        where = f"{prefix}messages[{i}]"
        role = _role(m, where, line, out)
        if role is None:
            continue
        for j, tc in enumerate(_check_shape(m, role, where, line, out) or ()):
            call_id = _check_call(tc, f"{where}.tool_calls[{j}]", line, tools, out)
            if call_id is not None:
                pairing.call(call_id, tc, where)
        if role == "tool":
            pairing.result(m, where)
    pairing.close(prefix)


def check_example(example: Any, line: int, validator: Callable[[Any], Validator]) -> list[Problem]:
    """Every per-example problem of a supervised example (the token limit is checked by the caller)."""
    out: list[Problem] = []
    if not isinstance(example, dict):
        return [Problem(line, "data_type", f"the line is a JSON {type(example).__name__}, not an object")]
    messages = example.get("messages")
    if not isinstance(messages, list) or not messages:
        return [Problem(line, "missing_messages_list", "no non-empty 'messages' list")]
    tools = _tool_schemas(example["tools"], line, out, validator) if "tools" in example else {}
    if "parallel_tool_calls" in example and not isinstance(example["parallel_tool_calls"], bool):
        out.append(
            Problem(line, "invalid_parallel_tool_calls", "'parallel_tool_calls' must be true or false")
        )
    _check_messages(messages, line, tools, out)
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if "assistant" not in roles:
        out.append(Problem(line, "example_missing_assistant_message", "no assistant message"))
    elif roles and roles[-1] != "assistant":
        out.append(Problem(line, "last_message_not_assistant", f"the last message is from {roles[-1]!r}"))
    if "system" not in roles and "developer" not in roles:
        out.append(Problem(line, "missing_system_message", "no system message", "warning"))
    if "user" not in roles:
        out.append(Problem(line, "missing_user_message", "no user message", "warning"))
    return out


def check_preference(
    example: dict[str, Any], line: int, validator: Callable[[Any], Validator]
) -> list[Problem]:
    """Every problem of a DPO line: its input, and one assistant message per output."""
    out: list[Problem] = []
    given = example.get("input")
    if not isinstance(given, dict) or not isinstance(given.get("messages"), list) or not given["messages"]:
        return [
            Problem(line, "invalid_preference", "'input' must be an object with a non-empty 'messages' list")
        ]
    tools = _tool_schemas(given["tools"], line, out, validator) if "tools" in given else {}
    _check_messages(given["messages"], line, tools, out, prefix="input.")
    for key in ("preferred_output", "non_preferred_output"):
        value = example.get(key)
        if not (
            isinstance(value, list)
            and len(value) == 1
            and isinstance(value[0], dict)
            and value[0].get("role") == "assistant"
        ):
            out.append(
                Problem(line, "invalid_preference", f"'{key}' must be a list holding one assistant message")
            )
            continue
        # Calls in an output are answered after it, so only their own shape is checked here.
        reply = value[0]
        if not reply.get("tool_calls") and not _content_ok(reply.get("content")):
            out.append(Problem(line, "missing_content", f"{key}[0] has empty or non-text content"))
        for j, tc in enumerate(reply.get("tool_calls") or ()):
            _check_call(tc, f"{key}[0].tool_calls[{j}]", line, tools, out)
    return out

"""Training examples for the fine-tuning tests: a clean one, and one known defect per rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def clean_example(city: str = "Paris", *, turns: int = 1) -> dict[str, Any]:
    """A valid tool-calling example: system, user, call, result, answer (repeated ``turns`` times)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You report the weather."}]
    for turn in range(turns):
        call_id = f"call_{city}_{turn}"
        messages += [
            {"role": "user", "content": f"Weather in {city}? ({turn})"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call_id, "content": "sunny, 21 C"},
            {"role": "assistant", "content": f"It is sunny in {city}."},
        ]
    return {"messages": messages, "tools": [WEATHER_TOOL], "parallel_tool_calls": True}


def _call(example: dict[str, Any]) -> dict[str, Any]:
    tool_calls: list[dict[str, Any]] = example["messages"][2]["tool_calls"]
    return tool_calls[0]


def defects() -> dict[str, Any]:
    """One example (or raw line) per error kind, each with exactly that defect."""
    out: dict[str, Any] = {}

    def make(kind: str) -> dict[str, Any]:
        out[kind] = copy.deepcopy(clean_example(kind))
        example: dict[str, Any] = out[kind]
        return example

    out["invalid_json"] = '{"messages": [ '
    out["data_type"] = [1, 2]
    out["missing_messages_list"] = {"messages": []}
    make("message_missing_key")["messages"][1].pop("role")
    make("message_unrecognized_key")["messages"][1]["speaker"] = "me"
    make("unrecognized_role")["messages"][1]["role"] = "human"
    make("missing_content")["messages"][1]["content"] = ""
    e = make("example_missing_assistant_message")
    e["messages"] = e["messages"][:2]
    e.pop("tools")
    e = make("last_message_not_assistant")
    e["messages"].append({"role": "user", "content": "thanks"})
    make("invalid_weight")["messages"][4]["weight"] = 0.5
    make("weight_not_on_assistant")["messages"][1]["weight"] = 1
    make("invalid_tools")["tools"] = [{"type": "function", "function": {"description": "no name"}}]
    make("invalid_parallel_tool_calls")["parallel_tool_calls"] = "yes"
    _call(make("invalid_tool_call")).pop("type")
    e = make("duplicate_tool_call_id")
    second = copy.deepcopy(e["messages"][2:4])
    e["messages"][4:4] = second
    _call(make("arguments_not_string"))["function"]["arguments"] = {"city": "Oslo"}
    _call(make("arguments_invalid_json"))["function"]["arguments"] = '{"city": '
    _call(make("arguments_schema"))["function"]["arguments"] = '{"town": "Oslo"}'
    _call(make("unknown_tool"))["function"]["name"] = "get_forecast"
    e = make("orphan_tool_message")
    e["messages"].insert(4, {"role": "tool", "tool_call_id": "call_nobody", "content": "?"})
    e = make("unanswered_tool_call")
    del e["messages"][3]
    out["invalid_preference"] = {
        "input": {"messages": [{"role": "user", "content": "hi"}]},
        "preferred_output": [],
    }
    return out


def write_lines(path: Path, rows: list[Any]) -> Path:
    """Write rows as JSONL (a ``str`` row is written as is)."""
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path

"""The JSON objects of the Assistants API (the fields and ``object`` types the ``openai`` SDK parses)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from .. import Agent, Tool

ACTIVE = ("queued", "in_progress", "requires_action", "cancelling")
"""Run statuses during which the thread is busy."""
TERMINAL = ("completed", "failed", "cancelled", "expired", "incomplete")


def new_id(prefix: str) -> str:
    """An unguessable id: ``prefix_`` and 128 random bits in hex (``secrets``)."""
    return f"{prefix}_{secrets.token_hex(16)}"


def now() -> int:
    """Unix time in whole seconds, as the API reports it."""
    return int(time.time())


def public(data: dict[str, Any]) -> dict[str, Any]:
    """The object without the service's private fields (names starting with ``_``)."""
    return {k: v for k, v in data.items() if not k.startswith("_")}


def tool_entry(tool: Tool[..., Any]) -> dict[str, Any]:
    """An Assistants ``function`` tool entry for a registered tool."""
    spec = tool.to_openai()["function"]
    return {
        "type": "function",
        "function": {
            "name": spec["name"],
            "description": spec.get("description"),
            "parameters": spec.get("parameters"),
            "strict": bool(spec.get("strict", False)),
        },
    }


def served_assistant_id(agent: Agent[Any, Any]) -> str:
    """Agents given to ``create_app`` are assistants with a stable id from their name."""
    return f"asst_{agent.name}"


def assistant_from_agent(agent: Agent[Any, Any], created_at: int) -> dict[str, Any]:
    """The assistant object that shows a served agent (read-only, visible to every user)."""
    tools = [tool_entry(t) for t in agent.tools]
    settings = agent.model_settings
    return {
        "id": served_assistant_id(agent),
        "object": "assistant",
        "created_at": created_at,
        "name": agent.name,
        "description": None,
        "model": agent.model,
        "instructions": agent.instructions,
        "tools": tools,
        "metadata": {"agentkit_served": "true"},
        "temperature": settings.get("temperature"),
        "top_p": settings.get("top_p"),
        "response_format": "auto",
        "tool_resources": None,
    }


def thread_object(thread_id: str, metadata: dict[str, str] | None) -> dict[str, Any]:
    return {
        "id": thread_id,
        "object": "thread",
        "created_at": now(),
        "metadata": metadata or {},
        "tool_resources": None,
    }


def message_object(
    thread_id: str,
    role: str,
    text: str,
    *,
    assistant_id: str | None = None,
    run_id: str | None = None,
    metadata: dict[str, str] | None = None,
    status: str = "completed",
    message_id: str | None = None,
) -> dict[str, Any]:
    created = now()
    return {
        "id": message_id or new_id("msg"),
        "object": "thread.message",
        "created_at": created,
        "thread_id": thread_id,
        "role": role,
        "content": [{"type": "text", "text": {"value": text, "annotations": []}}],
        "assistant_id": assistant_id,
        "run_id": run_id,
        "attachments": [],
        "metadata": metadata or {},
        "status": status,
        "completed_at": created if status == "completed" else None,
        "incomplete_at": None,
        "incomplete_details": None,
    }


def run_object(
    run_id: str,
    thread_id: str,
    assistant: dict[str, Any],
    *,
    model: str,
    instructions: str,
    tools: list[dict[str, Any]],
    metadata: dict[str, str] | None,
    settings: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": run_id,
        "object": "thread.run",
        "created_at": now(),
        "thread_id": thread_id,
        "assistant_id": assistant["id"],
        "status": "queued",
        "required_action": None,
        "last_error": None,
        "expires_at": None,
        "started_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "incomplete_details": None,
        "model": model,
        "instructions": instructions,
        "tools": tools,
        "metadata": metadata or {},
        "usage": None,
        "temperature": settings.get("temperature"),
        "top_p": settings.get("top_p"),
        "max_prompt_tokens": None,
        "max_completion_tokens": settings.get("max_completion_tokens"),
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "response_format": "auto",
        "tool_choice": settings.get("tool_choice", "auto"),
        "parallel_tool_calls": settings.get("parallel_tool_calls", True),
    }


def step_object(step_id: str, run: dict[str, Any], step_type: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": step_id,
        "object": "thread.run.step",
        "created_at": now(),
        "run_id": run["id"],
        "assistant_id": run["assistant_id"],
        "thread_id": run["thread_id"],
        "type": step_type,
        "status": "in_progress",
        "cancelled_at": None,
        "completed_at": None,
        "expired_at": None,
        "failed_at": None,
        "last_error": None,
        "step_details": details,
        "usage": None,
        "metadata": {},
    }


def list_object(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """A cursor page as the API sends it."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }

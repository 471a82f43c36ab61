"""Turn agentkit's stream events into Assistants stream events and native events, in one log.

Each entry of a run's log is one ``RunEvent``: the Assistants event (``thread.message.delta``,
``thread.run.step.created``, ...) with its data, and, when it means something to a native
client, the native event (``text_delta``, ``tool_call_started``, ``tool_call_finished``,
``approval_required``, ``final``, ``error``). Both streams share the numbering, so one
``Last-Event-ID`` resumes either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..events import (
    FinalResult,
    RunPaused,
    StreamEvent,
    TextDelta,
    ToolCallResult,
    ToolCallStarted,
    TurnFinished,
)
from ._objects import message_object, new_id, now, step_object


@dataclass(frozen=True)
class RunEvent:
    """One numbered entry of a run's event log, its data encoded once (a snapshot of that moment).

    The same JSON text goes to every SSE client and to the store, so nothing is copied or
    encoded twice.
    """

    seq: int
    """Position in the run's log, from 1; sent as the SSE ``id:``."""
    event: str
    """The Assistants event name."""
    data: str
    """The Assistants event data, as JSON."""
    native_type: str | None
    """The native event's type (``text_delta``, ...), or ``None`` for Assistants-only bookkeeping."""
    native: str | None
    """The native event (``{"type": ..., ...}``) as JSON, or ``None``."""

    @classmethod
    def make(cls, seq: int, event: str, data: dict[str, Any], native: dict[str, Any] | None) -> RunEvent:
        encoded = json.dumps(native, ensure_ascii=False) if native is not None else None
        kind = str(native["type"]) if native is not None else None
        return cls(seq, event, json.dumps(data, ensure_ascii=False), kind, encoded)

    def stored(self) -> str:
        """The stored form: one JSON object made of the already-encoded parts."""
        native = self.native if self.native is not None else "null"
        return f'{{"event":{json.dumps(self.event)},"data":{self.data},"native":{native}}}'

    @classmethod
    def from_stored(cls, seq: int, raw: str) -> RunEvent:
        value = json.loads(raw)
        return cls.make(seq, value["event"], value["data"], value["native"])

    def sse(self, native: bool) -> str:
        """The event as SSE text: ``event:``, ``id:`` and ``data:`` lines and a blank line."""
        name, data = (self.native_type, self.native) if native else (self.event, self.data)
        return f"event: {name}\nid: {self.seq}\ndata: {data}\n\n"


Emit = Callable[[str, dict[str, Any], "dict[str, Any] | None"], None]


class Translator:
    """The state of one run's message and step objects while its events stream in.

    Args:
        run: The run object (mutated by the caller for status changes).
        emit: Appends one event to the log: ``emit(event, data, native)``.
    """

    def __init__(self, run: dict[str, Any], emit: Emit) -> None:
        self.run = run
        self.emit = emit
        self.message: dict[str, Any] | None = None
        self.message_step: dict[str, Any] | None = None
        self.tool_step: dict[str, Any] | None = None
        self.finished_messages: list[dict[str, Any]] = []
        """Completed assistant messages, for the caller to store."""
        self.output: Any = None
        self.paused: list[dict[str, str]] = []
        """The calls the run paused at: ``{"tool_call_id", "name", "arguments", "kind"}``."""
        self.known: dict[str, tuple[str, str]] = {
            p["tool_call_id"]: (p["name"], p["arguments"]) for p in run.get("_pending") or ()
        }

    def handle(self, event: StreamEvent) -> None:
        """Translate one agentkit event."""
        if isinstance(event, TextDelta):
            self._text(event.text)
        elif isinstance(event, ToolCallStarted):
            self._end_message("completed")
            self._tool_started(event)
        elif isinstance(event, ToolCallResult):
            self._tool_finished(event)
        elif isinstance(event, TurnFinished):
            self._end_message("completed")
            self._end_tool_step()
        elif isinstance(event, RunPaused):
            self._pause(event)
        elif isinstance(event, FinalResult):
            self._end_message("completed")
            self._end_tool_step()
            output = event.result.output
            self.output = output.model_dump(mode="json") if hasattr(output, "model_dump") else output

    def close(self, status: str) -> None:
        """End whatever is open when the run stops early (``incomplete`` message, step status)."""
        self._end_message("incomplete" if status != "completed" else "completed")
        self._end_tool_step(status if status != "completed" else "completed")

    # --- messages ---

    def _text(self, text: str) -> None:
        if self.message is None:
            message = message_object(
                self.run["thread_id"],
                "assistant",
                "",
                assistant_id=self.run["assistant_id"],
                run_id=self.run["id"],
                status="in_progress",
            )
            message["content"] = []
            step = step_object(
                new_id("step"),
                self.run,
                "message_creation",
                {"type": "message_creation", "message_creation": {"message_id": message["id"]}},
            )
            self.message, self.message_step = message, step
            self.emit("thread.run.step.created", step, None)
            self.emit("thread.run.step.in_progress", step, None)
            self.emit("thread.message.created", message, None)
            self.emit("thread.message.in_progress", message, None)
            message["content"] = [{"type": "text", "text": {"value": "", "annotations": []}}]
        self.message["content"][0]["text"]["value"] += text
        delta = {"content": [{"index": 0, "type": "text", "text": {"value": text, "annotations": []}}]}
        self.emit(
            "thread.message.delta",
            {"id": self.message["id"], "object": "thread.message.delta", "delta": delta},
            {"type": "text_delta", "text": text},
        )

    def _end_message(self, status: str) -> None:
        message, step = self.message, self.message_step
        if message is None or step is None:
            return
        self.message = self.message_step = None
        stamp = now()
        message["status"] = status
        if status == "completed":
            message["completed_at"] = stamp
        else:
            message["incomplete_at"] = stamp
            message["incomplete_details"] = {"reason": "run_failed"}
        self.finished_messages.append(message)
        self.emit(f"thread.message.{status}", message, None)
        self._finish_step(step, "completed" if status == "completed" else "failed", stamp)

    # --- tool calls ---

    def _tool_started(self, event: ToolCallStarted, native: bool = True) -> None:
        if self.tool_step is None:
            self.tool_step = step_object(
                new_id("step"), self.run, "tool_calls", {"type": "tool_calls", "tool_calls": []}
            )
            self.emit("thread.run.step.created", self.tool_step, None)
            self.emit("thread.run.step.in_progress", self.tool_step, None)
        calls = self.tool_step["step_details"]["tool_calls"]
        call = {
            "id": event.tool_call_id,
            "type": "function",
            "function": {"name": event.name, "arguments": event.raw_arguments, "output": None},
        }
        calls.append(call)
        self.emit(
            "thread.run.step.delta",
            _step_delta(self.tool_step["id"], {"index": len(calls) - 1, **call}),
            {
                "type": "tool_call_started",
                "tool_call_id": event.tool_call_id,
                "name": event.name,
                "arguments": event.raw_arguments,
            }
            if native
            else None,
        )

    def _pause(self, event: RunPaused) -> None:
        self._end_message("completed")
        for call in event.pending_tool_calls:
            self.paused.append(
                {
                    "tool_call_id": call.tool_call_id,
                    "name": call.name,
                    "arguments": call.arguments,
                    "kind": call.kind,
                }
            )
            self._tool_started(
                ToolCallStarted(call.tool_call_id, call.name, None, call.arguments), native=False
            )
        self._end_tool_step()

    def _tool_finished(self, event: ToolCallResult) -> None:
        native = {
            "type": "tool_call_finished",
            "tool_call_id": event.tool_call_id,
            "name": event.name,
            "output": event.content,
            "is_error": event.is_error,
        }
        calls = self.tool_step["step_details"]["tool_calls"] if self.tool_step else []
        index = next((i for i, c in enumerate(calls) if c["id"] == event.tool_call_id), None)
        if self.tool_step is None or index is None:
            # A paused call answered by a decision (denied, or a client's output): it was never
            # started in this run, so its step entry is made here, without a native start.
            name, arguments = self.known.get(event.tool_call_id, (event.name, ""))
            self._tool_started(ToolCallStarted(event.tool_call_id, name, None, arguments), native=False)
            assert self.tool_step is not None
            calls = self.tool_step["step_details"]["tool_calls"]
            index = len(calls) - 1
        calls[index]["function"]["output"] = event.content
        delta = {"index": index, "type": "function", "function": {"output": event.content}}
        self.emit("thread.run.step.delta", _step_delta(self.tool_step["id"], delta), native)

    def _end_tool_step(self, status: str = "completed") -> None:
        if self.tool_step is not None:
            step, self.tool_step = self.tool_step, None
            self._finish_step(step, status, now())

    def _finish_step(self, step: dict[str, Any], status: str, stamp: int) -> None:
        step["status"] = status
        step[{"completed": "completed_at", "cancelled": "cancelled_at"}.get(status, "failed_at")] = stamp
        self.emit(f"thread.run.step.{status}", step, None)


def _step_delta(step_id: str, call: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": step_id,
        "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call]}},
    }

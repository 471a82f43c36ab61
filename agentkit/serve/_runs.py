"""Runs execute in this process as tasks the service owns; clients watch their event logs.

A run is a task that the ``Runner`` starts, tracks and cancels on shutdown (never fire and
forget). Its events go into an in-memory log that any number of SSE responses follow; the log
is written to the store in batches (at every step, message and status change), so a client that
reconnects with ``Last-Event-ID`` — to this process or after a restart — gets the rest. A client
that goes away only stops its own response: the run goes on and its results land in the thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import Agent, ToolDecision
from ..events import FinalResult, ToolCallStarted
from ._objects import ACTIVE, new_id, now, public
from ._store import Record, ServeStore
from ._translate import RunEvent, Translator

logger = logging.getLogger("agentkit.serve")

ORPHANED = "The server stopped while this run was in progress; its outcome is in the thread so far."


@dataclass
class LiveRun:
    """A run executing in this process, and its event log."""

    run: dict[str, Any]
    """The run object (status and timestamps updated as it goes)."""
    owner: str
    """The user who started it."""
    events: list[RunEvent] = field(default_factory=list)
    """Every event so far, numbered from 1."""
    flushed: int = 0
    """How many of ``events`` are in the store."""
    done: bool = False
    """The run reached a final status and its log is complete."""
    task: asyncio.Task[None] | None = None
    base: int = 0
    """Events the run logged before it paused (a resumed run numbers on from there)."""
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def emit(self, event: str, data: dict[str, Any], native: dict[str, Any] | None) -> None:
        self.events.append(RunEvent.make(self.base + len(self.events) + 1, event, data, native))
        self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


class Runner:
    """Starts runs, keeps the live ones, and serves their event logs.

    Args:
        store: Where runs, messages and events are kept.
        instance: This process's id, written into the runs it starts, so that a run left
            ``in_progress`` by a stopped process is recognised.
    """

    def __init__(self, store: ServeStore) -> None:
        self.store = store
        self.instance = new_id("srv")
        self.live: dict[str, LiveRun] = {}
        self.busy: dict[str, str] = {}
        """Thread id -> the run holding it (claimed before the run's first write)."""

    def start(
        self,
        run: dict[str, Any],
        owner: str,
        agent: Agent[Any, Any],
        decisions: Sequence[ToolDecision] | None = None,
    ) -> LiveRun:
        """Start executing ``run`` (already stored, status ``queued``) on its thread.

        Args:
            decisions: Resume a paused run (its log numbering goes on) with these decisions;
                or, for a new run, answer the calls a cancelled paused run left behind.
        """
        run["_instance"] = self.instance
        resumed = run.get("_events", 0)
        live = LiveRun(run, owner, base=resumed)
        self.live[run["id"]] = live
        if not resumed:
            live.emit("thread.run.created", public(run), {"type": "run_created", "run": public(run)})
        live.emit("thread.run.queued", public(run), None)
        live.task = asyncio.create_task(
            self._execute(live, agent, decisions), name=f"agentkit-serve-{run['id']}"
        )
        return live

    def active_on(self, thread_id: str) -> str | None:
        """The id of the run that holds ``thread_id`` in this process, if any."""
        return self.busy.get(thread_id)

    def claim(self, thread_id: str, run_id: str) -> str | None:
        """Hold ``thread_id`` for a run about to start; return the holder's id if it is taken."""
        holder = self.busy.setdefault(thread_id, run_id)
        return None if holder == run_id else holder

    def release(self, thread_id: str, run_id: str) -> None:
        """Give the thread back (a run that ended, or that could not start)."""
        if self.busy.get(thread_id) == run_id:
            del self.busy[thread_id]

    async def cancel(self, run_id: str) -> bool:
        """Ask a live run to stop; return whether it was live here."""
        live = self.live.get(run_id)
        if live is None or live.task is None or live.done:
            return False
        live.run["status"] = "cancelling"
        live.task.cancel()
        return True

    async def shutdown(self) -> None:
        """Cancel every live run and wait until each has stored its final state."""
        tasks = [lv.task for lv in self.live.values() if lv.task is not None and not lv.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _execute(
        self, live: LiveRun, agent: Agent[Any, Any], decisions: Sequence[ToolDecision] | None
    ) -> None:
        run = live.run
        translator = Translator(run, live.emit)
        session = self.store.session(run["thread_id"])
        status = "failed"
        try:
            run["status"], run["started_at"] = "in_progress", now()
            live.emit("thread.run.in_progress", public(run), None)
            async for event in agent.run_stream(session=session, decisions=decisions or None):
                translator.handle(event)
                if isinstance(event, ToolCallStarted) and translator.finished_messages:
                    # Text that came before a tool call is a message of its own: list it now.
                    await self._save(live, translator.finished_messages)
                elif isinstance(event, FinalResult):
                    usage = event.result.usage
                    run["usage"] = {
                        "prompt_tokens": usage.input_tokens,
                        "completion_tokens": usage.output_tokens,
                        "total_tokens": usage.total_tokens,
                    }
                    status = "requires_action" if event.result.pending_tool_calls else "completed"
        except asyncio.CancelledError:
            status = "cancelled"
        except Exception as exc:
            logger.warning("run %s failed: %s: %s", run["id"], type(exc).__name__, exc)
            run["last_error"] = {"code": "server_error", "message": f"{type(exc).__name__}: {exc}"}
        finally:
            translator.close(status)
            await asyncio.shield(self._finish(live, translator, status, session))

    async def _finish(self, live: LiveRun, translator: Translator, status: str, session: Any) -> None:
        """Store the run's end, then show it: whoever sees the final status (a poll, a stream)
        also finds the run's messages stored and its thread free for the next run."""
        final = {**live.run, "status": status}
        native: dict[str, Any]
        if status == "requires_action":
            pause(final, translator.paused)
            native = {"type": "approval_required", "pending_tool_calls": translator.paused}
        elif status == "completed":
            final["completed_at"] = now()
            native = {"type": "final", "output": translator.output, "usage": final["usage"]}
        elif status == "cancelled":
            final["cancelled_at"] = now()
            native = {"type": "error", "code": "cancelled", "message": "The run was cancelled."}
        else:
            final["failed_at"] = now()
            native = {"type": "error", **(final["last_error"] or {"code": "server_error", "message": ""})}
        native["run"] = public(final)
        last = RunEvent.make(live.base + len(live.events) + 1, f"thread.run.{status}", public(final), native)
        final["_events"] = last.seq
        try:
            await self._save(live, translator.finished_messages, final, last)
        except Exception:
            logger.exception("could not store the end of run %s", final["id"])
        finally:
            # No await from here to the release: the status, the log and the thread change together.
            live.run.update(final)
            live.events.append(last)
            live.done = True
            live._notify()
            self.live.pop(final["id"], None)
            self.release(final["thread_id"], final["id"])
            aclose = getattr(session, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _save(
        self,
        live: LiveRun,
        messages: list[dict[str, Any]],
        run: dict[str, Any] | None = None,
        last: RunEvent | None = None,
    ) -> None:
        """Store new events (and ``last``), finished messages and the run object (or ``run``), in
        one transaction."""
        run = run if run is not None else live.run
        thread_id = run["thread_id"]
        records = [Record("message", m["id"], live.owner, m, thread_id) for m in messages]
        records.append(Record("run", run["id"], live.owner, run, thread_id))
        batch = live.events[live.flushed :]
        events = [(run["id"], e.seq, e.stored()) for e in [*batch, *([last] if last else [])]]
        await self.store.save(records, events)
        messages.clear()
        live.flushed += len(batch) + (1 if last else 0)

    async def get_run(self, run_id: str, owner: str) -> dict[str, Any] | None:
        """The run as it is now (live, or stored; a run orphaned by a stopped process is failed)."""
        live = self.live.get(run_id)
        if live is not None:
            return live.run if live.owner == owner else None
        run = await self.store.get("run", run_id, owner)
        if run is not None and run["status"] in ACTIVE and run["status"] != "requires_action":
            # Started by a process that is gone: nothing will finish it.
            run["status"], run["failed_at"] = "failed", now()
            run["last_error"] = {"code": "server_error", "message": ORPHANED}
            await self.store.save([Record("run", run_id, owner, run, run["thread_id"])])
        return run

    async def follow(self, run_id: str, after: int, native: bool) -> AsyncIterator[RunEvent]:
        """Yield the run's events numbered above ``after``, live until the run ends."""
        async for batch in self.follow_batches(run_id, after, native):
            for event in batch:
                yield event

    async def follow_batches(self, run_id: str, after: int, native: bool) -> AsyncIterator[list[RunEvent]]:
        """Like ``follow``, in lists of the events that were ready together (one write each)."""
        live = self.live.get(run_id)
        if live is None or after < live.base:
            # From the store: a finished run, or the part of a resumed run before its pause.
            until = live.base if live is not None else None
            stored = [
                RunEvent.from_stored(seq, raw)
                for seq, raw in await self.store.load_events(run_id, after)
                if until is None or seq <= until
            ]
            yield [e for e in stored if not native or e.native is not None]
            if live is None:
                return
            after = live.base
        position = after - live.base
        while True:
            changed = live._changed
            batch = [e for e in live.events[position:] if not native or e.native is not None]
            position = max(position, len(live.events))
            if batch:
                yield batch
            if live.done and position >= len(live.events):
                return
            if position >= len(live.events):
                await changed.wait()


def pause(run: dict[str, Any], pending: list[dict[str, str]]) -> None:
    """Mark ``run`` as waiting at ``pending`` calls: ``required_action`` lists the client's calls."""
    client = [p for p in pending if p["kind"] == "client"]
    run["required_action"] = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": p["tool_call_id"],
                    "type": "function",
                    "function": {"name": p["name"], "arguments": p["arguments"]},
                }
                for p in client
            ]
        },
    }
    run["_pending"] = pending
    run["_decisions"] = []

"""Property tests for the boundary classes: however a server fragments a reply, the loop runs the
same calls with the same arguments, and every call id it sends is unique and answered once."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from raw_model import RawModel, chunk, final_text, sse

from agentkit import Agent, RunContext, tool
from agentkit.testing import ScriptedModel, reply, tool_call

SEEN: list[tuple[str, str]] = []


@tool
def note(ctx: RunContext[None], text: str) -> str:
    """Take a note.

    Args:
        text: The note.
    """
    SEEN.append((text, ctx.idempotency_key))
    return "noted"


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


def _fragments(data: st.DataObject, text: str) -> list[str]:
    cuts = sorted(data.draw(st.sets(st.integers(1, max(len(text) - 1, 1)), max_size=6)))
    bounds = [0, *[c for c in cuts if c < len(text)], len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    notes=st.lists(texts, min_size=1, max_size=4),
    repeat_ids=st.booleans(),
    with_index=st.booleans(),
)
def test_any_fragmentation_runs_the_same_calls(
    data: st.DataObject, notes: list[str], repeat_ids: bool, with_index: bool
) -> None:
    SEEN.clear()
    events: list[Any] = []
    for i, text in enumerate(notes):
        arguments = json.dumps({"text": text})
        for j, part in enumerate(_fragments(data, arguments)):
            entry: dict[str, Any] = {"function": {"arguments": part}}
            if with_index:
                entry["index"] = i
            if j == 0:
                entry.update(id=f"call_{i}", type="function")
                entry["function"]["name"] = "note"
            elif repeat_ids:
                entry["id"] = f"call_{i}"
            events.append(chunk({"tool_calls": [entry]}))
    events.append(chunk({}, "tool_calls"))
    model = RawModel([sse(*events), final_text()])

    async def main() -> None:
        async for _ in Agent(tools=[note], client=model.client()).run_stream("go"):
            pass

    asyncio.run(main())
    assert [text for text, _ in SEEN] == notes
    sent = model.requests[1]["messages"]
    ids = [tc["id"] for tc in sent[1]["tool_calls"]]
    assert len(set(ids)) == len(ids) == len(notes)
    assert [m["tool_call_id"] for m in sent[2:]] == ids


async def test_idempotency_keys_differ_across_threads_that_reuse_call_ids() -> None:
    from agentkit.sessions import MemorySession

    SEEN.clear()
    for thread in ("user-1", "user-2"):
        model = ScriptedModel(
            [reply(tool_calls=[tool_call("note", {"text": thread}, id="call_0")]), reply("ok")]
        )
        await Agent(tools=[note], client=model.client()).run("go", session=MemorySession(thread))
    (_, first), (_, second) = SEEN
    assert first != second

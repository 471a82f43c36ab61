"""retrieval_tool: an agent searches a vector store through the loop, streamed or not, and replayed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent, Tool
from agentkit.embeddings import Embedder, SQLiteVectorStore, retrieval_tool
from agentkit.events import FinalResult
from agentkit.exceptions import EmbeddingModelMismatchError
from agentkit.testing import ScriptedModel, cassette, reply, tool_call

PASSAGES = {
    "guide.md#0": ("Refunds are paid within 14 days of the return.", "guide.md"),
    "guide.md#1": ("Shipping to Japan takes five working days.", "guide.md"),
    "faq.md#0": ("Refunds for damaged goods include shipping costs.", "faq.md"),
}


async def make_store(tmp_path: Path, embedder: Embedder) -> SQLiteVectorStore:
    store = SQLiteVectorStore(tmp_path / "kb.sqlite3", embedder=embedder)
    ids = list(PASSAGES)
    await store.add(ids, [PASSAGES[i][0] for i in ids], metadata=[{"source": PASSAGES[i][1]} for i in ids])
    return store


def tool_outputs(request: dict[str, Any]) -> list[str]:
    items = request.get("messages") or request.get("input") or []
    return [
        str(i.get("content") if i.get("role") == "tool" else i.get("output"))
        for i in items
        if i.get("role") == "tool" or i.get("type") == "function_call_output"
    ]


def test_the_tool_has_a_strict_schema_with_query_and_filters(tmp_path: Path) -> None:
    embedder = Embedder(dimensions=256, client=ScriptedModel([]).client())
    store = SQLiteVectorStore(tmp_path / "x.sqlite3", embedder=embedder)
    search = retrieval_tool(store, embedder, k=2, name="kb", description="Search the handbook.")
    assert isinstance(search, Tool) and search.name == "kb" and search.description == "Search the handbook."
    assert search.strict
    properties = search.parameters["properties"]
    assert set(properties) == {"query", "filters"}
    assert search.parameters["required"] == ["query", "filters"]


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_the_agent_searches_and_gets_passages_with_sources(
    tmp_path: Path, api: str, stream: bool
) -> None:
    model = ScriptedModel(
        [
            reply(
                tool_calls=[tool_call("search_documents", {"query": "refunds for goods", "filters": None})]
            ),
            reply(
                tool_calls=[
                    tool_call(
                        "search_documents",
                        {"query": "refunds", "filters": [{"key": "source", "value": "guide.md"}]},
                    )
                ]
            ),
            reply("Refunds take 14 days [guide.md]; damaged goods include shipping [faq.md]."),
        ]
    )
    embedder = Embedder(dimensions=256, client=model.client())
    store = await make_store(tmp_path, embedder)
    agent = Agent(tools=[retrieval_tool(store, embedder, k=2)], client=model.client(), api=api)  # type: ignore[arg-type]
    if stream:
        events = [e async for e in agent.run_stream("How long do refunds take?")]
        final = events[-1]
        assert isinstance(final, FinalResult)
        result = final.result
    else:
        result = await agent.run("How long do refunds take?")
    assert "guide.md" in str(result.output)
    [first] = tool_outputs(model.requests[1])
    assert first.startswith("[1] source: faq.md (id: faq.md#0, score: ")
    assert "Refunds for damaged goods" in first and "[2] source: guide.md (id: guide.md#0" in first
    assert "Japan" not in first, "k=2 keeps the two refund passages"
    filtered = tool_outputs(model.requests[2])[-1]
    assert "[1] source: guide.md (id: guide.md#0" in filtered and "faq.md" not in filtered
    # The queries were embedded with the store's model and size.
    queries = model.embedding_requests[-2:]
    assert [r["input"] for r in queries] == [["refunds for goods"], ["refunds"]]
    assert all(r["dimensions"] == 256 and r["model"] == "text-embedding-3-small" for r in queries)
    model.assert_complete()


async def test_an_empty_query_asks_the_model_again(tmp_path: Path) -> None:
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("search_documents", {"query": " ", "filters": None})]),
            reply("Sorry."),
        ]
    )
    embedder = Embedder(dimensions=256, client=model.client())
    store = await make_store(tmp_path, embedder)
    await Agent(tools=[retrieval_tool(store, embedder)], client=model.client()).run("?")
    assert "The query is empty" in tool_outputs(model.requests[1])[0]


async def test_a_store_of_another_model_is_refused(tmp_path: Path) -> None:
    client = ScriptedModel([]).client()
    store = await make_store(tmp_path, Embedder(dimensions=256, client=client))
    with pytest.raises(EmbeddingModelMismatchError):
        retrieval_tool(store, Embedder("text-embedding-3-large", dimensions=256, client=client))
    with pytest.raises(EmbeddingModelMismatchError):
        retrieval_tool(store, Embedder(dimensions=64, client=client))


async def test_retrieval_records_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "retrieval.yaml"
    script = [
        reply(tool_calls=[tool_call("search_documents", {"query": "shipping Japan", "filters": None})]),
        reply("Five working days [guide.md]."),
    ]
    # The store is filled with vectors made beforehand, so the cassette holds only the run.
    setup = Embedder(dimensions=256, client=ScriptedModel([]).client())
    store = await make_store(tmp_path, setup)

    def agent() -> Agent[Any, Any]:
        # A new embedder each time, so its cache cannot answer the replayed query.
        return Agent(tools=[retrieval_tool(store, Embedder(dimensions=256))])

    with cassette(path, record="once"), ScriptedModel(script).install():
        recorded = await agent().run("How long is shipping to Japan?")
    text = path.read_text()
    assert "/embeddings" in text and "shipping Japan" in text
    with cassette(path):  # no scripted model: chat and embeddings both come from the file
        replayed = await agent().run("How long is shipping to Japan?")
    assert replayed.output == recorded.output
    outputs = tool_outputs({"messages": replayed.messages})
    assert outputs == tool_outputs({"messages": recorded.messages})
    assert outputs[0].startswith("[1] source: guide.md (id: guide.md#1")

"""Embedder: order, packing to the API's limits, base64, dimensions, cache, bad input, bad replies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2
import numpy as np
import openai
import pytest
from embeddings_fixtures import embeddings_server

from agentkit.embeddings import Embedder, Limits
from agentkit.exceptions import (
    ConfigurationError,
    EmbeddingError,
    EmbeddingInputError,
    RequestMismatchError,
    UnknownModelError,
)
from agentkit.testing import ScriptedModel, cassette
from agentkit.tokens import count_text

TEXTS = ["The cat sat on the mat.", "Dogs bark at night.", "A cat and a dog.", "Stock prices fell."]


def test_public_names() -> None:
    import agentkit.embeddings

    assert agentkit.embeddings.__all__ == [
        "Document",
        "Embedder",
        "Filter",
        "Hit",
        "Limits",
        "LongInputs",
        "PgVectorStore",
        "SQLiteVectorStore",
        "VectorStore",
        "chunk_text",
        "open_store",
        "retrieval_tool",
    ]


async def test_vectors_come_back_in_input_order_as_unit_float32() -> None:
    model = ScriptedModel([])
    embedder = Embedder(dimensions=64, client=model.client())
    vectors = await embedder.embed(TEXTS)
    assert vectors.shape == (4, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one = await Embedder(dimensions=64, client=model.client()).embed_one(TEXTS[2])
    assert np.allclose(one, vectors[2])
    # The two texts about cats are nearer each other than to the one about stocks.
    sims = vectors @ vectors.T
    assert sims[0, 2] > sims[0, 3]
    request = model.embedding_requests[0]
    assert request["encoding_format"] == "base64"
    assert request["dimensions"] == 64 and request["input"] == TEXTS
    assert model.requests == [], "embeddings use no scripted chat reply"


async def test_dimensions_is_sent_only_when_asked_and_only_to_models_that_take_it() -> None:
    model = ScriptedModel([])
    embedder = Embedder(client=model.client())
    assert embedder.dimensions == 1536
    assert (await embedder.embed(["x"])).shape == (1, 1536)
    assert "dimensions" not in model.embedding_requests[0]
    ada = Embedder("text-embedding-ada-002", client=model.client())
    assert (await ada.embed(["x"])).shape == (1, 1536)
    with pytest.raises(ConfigurationError, match="fixed size"):
        Embedder("text-embedding-ada-002", dimensions=256)
    with pytest.raises(ConfigurationError, match="at most 1536"):
        Embedder("text-embedding-3-small", dimensions=4096)


def test_unknown_and_non_embedding_models_are_refused() -> None:
    with pytest.raises(UnknownModelError):
        Embedder("no-such-embedding-model")
    with pytest.raises(ConfigurationError, match="not an embedding model"):
        Embedder("gpt-4o-mini")


async def test_requests_are_packed_to_2048_inputs() -> None:
    model = ScriptedModel([])
    embedder = Embedder(dimensions=8, client=model.client())
    texts = [f"text number {i}" for i in range(5000)]
    vectors = await embedder.embed(texts)
    assert [len(r["input"]) for r in model.embedding_requests] == [2048, 2048, 904]
    assert [t for r in model.embedding_requests for t in r["input"]] == texts
    again = await Embedder(dimensions=8, client=ScriptedModel([]).client()).embed(texts[4000:4003])
    assert np.allclose(vectors[4000:4003], again)


async def test_requests_are_packed_to_the_token_limit_counted_offline() -> None:
    model = ScriptedModel([])
    # A token limit of 100 per request: texts of 30 tokens go 3 to a request.
    embedder = Embedder(dimensions=8, client=model.client(), limits=Limits(max_inputs=2048, max_tokens=100))
    text = " ".join(["word"] * 30)
    assert count_text(text, model="text-embedding-3-small") == 30
    await embedder.embed([f"{i} {text}" for i in range(7)])
    sizes = [len(r["input"]) for r in model.embedding_requests]
    assert sizes == [3, 3, 1]
    for request in model.embedding_requests:
        assert sum(count_text(t, model="text-embedding-3-small") for t in request["input"]) <= 100


async def test_concurrent_requests_are_bounded() -> None:
    with embeddings_server(latency=0.05) as server:
        async with server.client() as client:
            embedder = Embedder(dimensions=8, client=client, max_concurrency=3, limits=Limits(max_inputs=10))
            vectors = await embedder.embed([f"t{i}" for i in range(100)])
    assert vectors.shape == (100, 8)
    assert len(server.bodies) == 10
    assert server.max_in_flight == 3


async def test_cache_makes_repeated_texts_free() -> None:
    model = ScriptedModel([])
    embedder = Embedder(dimensions=16, client=model.client(), cache_size=100)
    first = await embedder.embed(["a b", "c d", "a b"])
    assert model.embedding_requests[0]["input"] == ["a b", "c d"], "duplicates are sent once"
    second = await embedder.embed(["c d", "e f"])
    assert model.embedding_requests[1]["input"] == ["e f"]
    assert np.allclose(first[1], second[0])
    await embedder.embed(["a b", "e f"])
    assert len(model.embedding_requests) == 2
    # Another size is another cache key.
    other = Embedder(dimensions=8, client=model.client())
    await other.embed(["a b"])
    assert len(model.embedding_requests) == 3
    # A cache smaller than the input still returns every vector.
    tiny = Embedder(dimensions=16, client=model.client(), cache_size=1)
    assert np.allclose(await tiny.embed(["a b", "c d", "a b"]), first)


async def test_bad_inputs_fail_before_anything_is_sent() -> None:
    model = ScriptedModel([])
    embedder = Embedder(dimensions=8, client=model.client())
    with pytest.raises(EmbeddingInputError, match="input 1 is an empty string") as info:
        await embedder.embed(["fine", "", "fine too"])
    assert info.value.index == 1
    with pytest.raises(EmbeddingInputError, match="not a string"):
        await embedder.embed(["fine", None])  # type: ignore[list-item]
    with pytest.raises(EmbeddingInputError, match="embed_one"):
        await embedder.embed("a single string")  # type: ignore[arg-type]
    long = "word " * 8999 + "word"
    with pytest.raises(EmbeddingInputError, match="9000 tokens") as too_long:
        await embedder.embed(["fine", long])
    assert (too_long.value.index, too_long.value.tokens, too_long.value.limit) == (1, 9000, 8191)
    assert model.embedding_requests == []
    assert (await embedder.embed([])).shape == (0, 8)


async def test_long_inputs_can_be_truncated_or_averaged() -> None:
    long = "alpha " * 5000 + "omega " * 5000
    model = ScriptedModel([])
    truncated = await Embedder(dimensions=32, client=model.client(), long_inputs="truncate").embed([long])
    sent = model.embedding_requests[-1]["input"]
    assert len(sent) == 1 and count_text(sent[0], model="text-embedding-3-small") == 8191
    assert "omega" in sent[0] and sent[0].count("omega") < 5000
    averaged = await Embedder(dimensions=32, client=model.client(), long_inputs="average").embed([long])
    pieces = model.embedding_requests[-1]["input"]
    assert len(pieces) == 2
    assert np.isclose(np.linalg.norm(averaged[0]), 1.0, atol=1e-5)
    assert not np.allclose(averaged, truncated)
    with pytest.raises(ConfigurationError):
        Embedder(long_inputs="split")  # type: ignore[arg-type]


async def test_a_reply_with_missing_or_wrong_sized_vectors_is_an_error() -> None:
    with embeddings_server(drop_last=True) as server:
        async with server.client() as client:
            with pytest.raises(EmbeddingError, match="sent 3 inputs, the server returned 2"):
                await Embedder(dimensions=8, client=client).embed(["a", "b", "c"])
    with embeddings_server(wrong_length=True) as server:
        async with server.client() as client:
            with pytest.raises(EmbeddingError, match="9-dimensional vector; expected 8"):
                await Embedder(dimensions=8, client=client).embed(["a"])


async def test_sdk_errors_pass_through_and_other_requests_are_cancelled() -> None:
    cancelled = []

    async def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if body["input"][0] == "fail":
            error = {
                "error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}
            }
            return httpx2.Response(429, json=error)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(body["input"][0])
            raise
        raise AssertionError("not cancelled")

    transport = httpx2.MockTransport(handler)
    async with openai.AsyncOpenAI(
        api_key="sk-test",
        base_url="http://127.0.0.1:9/v1",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=transport),
    ) as client:
        embedder = Embedder(dimensions=8, client=client, limits=Limits(max_inputs=1))
        with pytest.raises(openai.RateLimitError):
            await asyncio.wait_for(embedder.embed(["slow 1", "slow 2", "fail"]), timeout=10)
    assert sorted(cancelled) == ["slow 1", "slow 2"]


async def test_a_loopback_endpoint_works_like_the_api() -> None:
    with embeddings_server() as server:
        async with server.client() as client:
            embedder = Embedder(dimensions=16, client=client)
            from_server = await embedder.embed(TEXTS)
    scripted = await Embedder(dimensions=16, client=ScriptedModel([]).client()).embed(TEXTS)
    assert np.allclose(from_server, scripted)
    assert embedder.requests == 1 and embedder.usage_tokens > 0


async def test_embeddings_record_and_replay_with_cassettes(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.yaml"
    with embeddings_server() as server, cassette(path, record="once"):
        async with server.client() as client:
            recorded = await Embedder(dimensions=16, client=client).embed(TEXTS)
    text = path.read_text()
    assert "/v1/embeddings" in text and "sk-test" not in text
    with cassette(path):
        replayed = await Embedder(dimensions=16).embed(TEXTS)  # the cassette's client, no server
    assert np.array_equal(recorded, replayed)
    with pytest.raises(RequestMismatchError, match="input\\[0\\]"), cassette(path, allow_repeats=True):
        await Embedder(dimensions=16).embed(["something else"])


async def test_concurrent_embed_calls_share_nothing_unsafe() -> None:
    model = ScriptedModel([])
    embedder = Embedder(dimensions=8, client=model.client())
    results = await asyncio.gather(*(embedder.embed([f"text {i}", "shared"]) for i in range(20)))
    assert all(np.allclose(r[1], results[0][1]) for r in results)

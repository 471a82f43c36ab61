"""Offline token counting, measured against what the OpenAI API really billed.

The billed numbers come from the genuine recordings in ``../shared/wire-recordings`` (read in
place, never copied; see SOURCES.md there): each Chat Completions request body next to the
``usage.prompt_tokens`` of its reply.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import inspect
import itertools
import json
import re
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentkit import tokens
from agentkit.exceptions import ConfigurationError, UnknownModelError, UserError
from agentkit.models import ModelInfo, register_model, reset_models
from agentkit.tokens import count_text, count_tokens, decode, encode

WIRE = Path(__file__).resolve().parents[2] / "shared" / "wire-recordings"


@pytest.fixture(autouse=True)
def _clean_table() -> Iterator[None]:
    reset_models()
    yield
    reset_models()


# ---- the tokenizer data --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_shipped_encoding_files_match_tiktokens_published_hashes(name: str) -> None:
    """The files in the bpe-openai wheel are the ones tiktoken would download."""
    import tiktoken_ext.openai_public

    source = inspect.getsource(getattr(tiktoken_ext.openai_public, name))
    published = re.search(r'expected_hash="([0-9a-f]{64})"', source)
    assert published is not None
    path = importlib.metadata.distribution("bpe-openai").locate_file(f"bpe_openai/data/{name}.tiktoken.gz")
    assert hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest() == published.group(1)


def test_counting_opens_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/nonexistent")
    tokens._encoding.cache_clear()  # load the encodings again, from scratch, with the guard on
    assert count_text("hello world", model="gpt-4o") == 2
    assert count_text("hello world", model="gpt-3.5-turbo") == 2
    assert count_tokens([{"role": "user", "content": "hi"}], model="gpt-4.1-mini") == 8


def test_a_corrupt_encoding_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_data_file", lambda name: b"aGk= 0\n")
    tokens._encoding.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="SHA-256"):
            encode("hi", model="gpt-4o")
    finally:
        tokens._encoding.cache_clear()


# ---- encode, decode, count_text --------------------------------------------------------------


def test_encode_decode_round_trip_with_each_encoding() -> None:
    text = "Grüße aus Köln! 東京タワー 🚀 <|endoftext|> def f(x):\n    return x**2\n"
    for model in ("gpt-4o", "gpt-5-nano", "gpt-3.5-turbo-0125", "text-embedding-3-small"):
        ids = encode(text, model=model)
        assert decode(ids, model=model) == text
        assert count_text(text, model=model) == len(ids)
    # The two encodings differ, and special tokens are plain text.
    assert encode(text, model="gpt-4o") != encode(text, model="gpt-3.5-turbo")
    assert 199999 not in encode("<|endoftext|>", model="gpt-4o")


def test_known_token_ids() -> None:
    assert encode("hello world", model="gpt-4o") == [24912, 2375]
    assert encode("hello world", model="gpt-3.5-turbo") == [15339, 1917]
    assert count_text("", model="gpt-4o") == 0


def test_agrees_with_an_independent_tokenizer() -> None:
    """bpe-openai's own Rust tokenizer (GitHub's bpe crate, its own copy of the vocabulary, no
    tiktoken code) gives the same ids."""
    with warnings.catch_warnings():  # bpe_openai's import uses a deprecated importlib.resources call
        warnings.simplefilter("ignore", DeprecationWarning)
        from bpe_openai import _bindings

    texts = [json.dumps(body) for body in _chat_requests_bodies()] or ["no recordings: a fallback text"]
    texts += ["  leading spaces\n\n\ttabs", "naïve café — “quotes” ½ 1234567", "A" * 5000]
    for encoding, model in (("o200k_base", "gpt-4o"), ("cl100k_base", "gpt-3.5-turbo")):
        other = _bindings.tokenizer_for_encoding(encoding)
        for text in texts:
            assert encode(text, model=model) == other.encode(text), text[:60]


def test_unknown_model_and_unknown_tokenizer() -> None:
    with pytest.raises(UnknownModelError):
        count_text("hi", model="gpt-9")
    register_model(ModelInfo("local-llama", 8192, 2048, None, None, None, encoding=None))
    with pytest.raises(ConfigurationError, match="tokenizer of model 'local-llama'"):
        count_tokens([{"role": "user", "content": "hi"}], model="local-llama")
    register_model(ModelInfo("local-gpt", 8192, 2048, None, None, None, encoding="cl100k_base"))
    assert count_text("hello world", model="local-gpt") == 2


# ---- count_tokens --------------------------------------------------------------------------


def test_message_overhead_and_names() -> None:
    m = "gpt-4o"
    one = count_tokens([{"role": "user", "content": "hello world"}], model=m)
    assert one == 3 + count_text("user", model=m) + 2 + 3
    named = count_tokens([{"role": "user", "content": "hello world", "name": "ada"}], model=m)
    assert named == one + 1 + count_text("ada", model=m)
    parts = [{"type": "text", "text": "hello"}, {"type": "text", "text": " world"}]
    assert count_tokens([{"role": "user", "content": parts}], model=m) == one
    assert count_tokens([], model=m) == 3


def test_tool_calls_and_definitions_add_tokens() -> None:
    m = "gpt-4o-mini"
    call = {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a":1,"b":2}'}}
    asked = [{"role": "user", "content": "1+2?"}]
    answered = [*asked, {"role": "assistant", "content": None, "tool_calls": [call]}]
    answered.append({"role": "tool", "tool_call_id": "call_1", "content": "3"})
    arguments = '{"a":1,"b":2}'
    assert count_tokens(answered, model=m) > count_tokens(asked, model=m) + count_text(arguments, model=m)
    tool = {"type": "function", "function": {"name": "add", "description": "Add.", "parameters": {}}}
    assert count_tokens(asked, model=m, tools=[tool]) > count_tokens(asked, model=m)


def test_content_that_cannot_be_counted_offline_is_refused() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    with pytest.raises(UserError, match="'image_url' content part"):
        count_tokens([{"role": "user", "content": [image]}], model="gpt-4o")


# ---- accuracy against billed usage ---------------------------------------------------------


def _body(raw: Any) -> str:
    if isinstance(raw, dict):
        raw = raw.get("string")
    if isinstance(raw, bytes):
        raw = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
    return raw or ""


def _prompt_tokens(text: str) -> int | None:
    text = text.strip()
    if text.startswith("{"):
        usage = json.loads(text).get("usage")
        return usage["prompt_tokens"] if usage else None
    for line in text.splitlines():  # a stream: the usage rides on the last chunk
        data = line[5:].strip() if line.startswith("data:") else ""
        if data and data != "[DONE]" and (usage := json.loads(data).get("usage")):
            return int(usage["prompt_tokens"])
    return None


def _billed_requests() -> list[tuple[str, dict[str, Any], int]]:
    """Every Chat Completions request in the recordings with the prompt tokens it was billed."""
    if not WIRE.is_dir():
        return []
    found = []
    for path in sorted(WIRE.glob("*.yaml")):
        for i, interaction in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            if "/chat/completions" not in interaction["request"]["uri"]:
                continue
            billed = _prompt_tokens(_body(interaction["response"]["body"]))
            if billed is not None:
                found.append((f"{path.stem}#{i}", json.loads(_body(interaction["request"]["body"])), billed))
    return found


def _chat_requests_bodies() -> list[dict[str, Any]]:
    return [body for _, body, _ in _billed_requests()]


BILLED = _billed_requests()
needs_recordings = pytest.mark.skipif(not BILLED, reason="../shared/wire-recordings is not present")


def _count(body: dict[str, Any]) -> int:
    return count_tokens(body["messages"], model=body["model"], tools=body.get("tools"))


@needs_recordings
def test_plain_messages_are_counted_exactly() -> None:
    """Where a recorded request only appends messages without tool calls to the previous one, the
    difference in billed tokens must be matched exactly."""
    pairs = 0
    for (name, before, billed_before), (_, after, billed_after) in itertools.pairwise(BILLED):
        added = after["messages"][len(before["messages"]) :]
        same_start = after["messages"][: len(before["messages"])] == before["messages"]
        plain = all(not m.get("tool_calls") and m["role"] != "tool" for m in added)
        if not (same_start and added and plain and before.get("tools") == after.get("tools")):
            continue
        pairs += 1
        assert _count(after) - _count(before) == billed_after - billed_before, name
    assert pairs >= 1


@needs_recordings
@pytest.mark.parametrize(("name", "body", "billed"), BILLED, ids=[name for name, _, _ in BILLED])
def test_tool_requests_are_counted_within_a_few_tokens(name: str, body: dict[str, Any], billed: int) -> None:
    if isinstance(body.get("tool_choice"), dict):
        pytest.skip("a forced tool_choice adds tokens count_tokens does not model (see docs/models.md)")
    assert abs(_count(body) - billed) <= 5, f"counted {_count(body)}, billed {billed}"

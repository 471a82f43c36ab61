"""``agentkit index`` and ``agentkit search``, and the token-bounded chunker they use."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import pytest
from embeddings_fixtures import drop_schema, embeddings_server, require_pgvector

from agentkit._cli import main
from agentkit.embeddings import chunk_text
from agentkit.exceptions import ConfigurationError
from agentkit.testing import ScriptedModel
from agentkit.tokens import count_text

MODEL = "text-embedding-3-small"


def write_docs(root: Path) -> Path:
    docs = root / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "refunds.md").write_text("# Refunds\n\nRefunds are paid within 14 days of the return.\n")
    (docs / "sub" / "shipping.txt").write_text("Shipping to Japan takes five working days.\n")
    (docs / "image.png").write_bytes(b"\x89PNG not text")
    (docs / "long.md").write_text(
        "\n\n".join(f"Paragraph {i} talks about topic number {i}." for i in range(300))
    )
    return docs


def test_index_then_search_then_reindex_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_docs(tmp_path)
    store = "sqlite:///kb.sqlite3"
    model = ScriptedModel([])
    with model.install():
        assert main(["index", "docs", "--store", store, "--dimensions", "256", "--chunk-tokens", "100"]) == 0
        out = capsys.readouterr().out
        assert "indexed 3 files" in out and "0 unchanged, 0 removed" in out
        embedded = int(out.split(": ")[1].split(" chunks")[0])
        assert embedded > 3, "the long file is split into several chunks"
        sent = sum(len(r["input"]) for r in model.embedding_requests)
        assert sent == embedded

        assert main(["search", "Shipping to Japan", "--store", store, "-k", "2"]) == 0
        out = capsys.readouterr().out
        first = out.splitlines()[0]
        assert (
            first.startswith("1. ")
            and "docs/sub/shipping.txt" in first
            and "(docs/sub/shipping.txt#0)" in first
        )
        assert "Shipping to Japan takes five working days." in out
        assert "2. " in out and "3. " not in out

        requests = len(model.embedding_requests)
        again = ["index", "docs", "--store", store, "--chunk-tokens", "100"]  # model and size: the store's
        assert main(again) == 0
        assert f"0 chunks embedded, {embedded} unchanged, 0 removed" in capsys.readouterr().out
        assert len(model.embedding_requests) == requests, "an unchanged re-run sends nothing"

        (tmp_path / "docs" / "refunds.md").write_text("# Refunds\n\nRefunds now take 30 days.\n")
        long = tmp_path / "docs" / "long.md"
        long.write_text("Paragraph 0 talks about topic number 0.")
        assert main(again) == 0
        out = capsys.readouterr().out
        removed = int(out.split("unchanged, ")[1].split(" removed")[0])
        assert "2 chunks embedded" in out and removed == embedded - 3
        assert main(["search", "refunds take days", "--store", store, "-k", "1"]) == 0
        assert "Refunds now take 30 days." in capsys.readouterr().out


def test_every_error_exits_2_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_docs(tmp_path)
    with ScriptedModel([]).install():
        assert main(["index", "missing-dir", "--store", "sqlite:///kb.sqlite3"]) == 2
        assert "no such file or directory: missing-dir" in capsys.readouterr().err
        assert main(["index", "docs/image.png", "--store", "sqlite:///kb.sqlite3"]) == 2
        assert "not UTF-8" in capsys.readouterr().err
        assert main(["search", "x", "--store", "redis://127.0.0.1/0"]) == 2
        assert "unknown store URL scheme" in capsys.readouterr().err
        assert main(["search", "x", "--store", "sqlite:///missing.sqlite3"]) == 2
        assert "no vector store at missing.sqlite3" in capsys.readouterr().err
        assert not (tmp_path / "missing.sqlite3").exists(), "searching creates nothing"
        assert main(["index", "docs", "--store", "sqlite:///kb.sqlite3", "--dimensions", "64"]) == 0
        capsys.readouterr()
        assert (
            main(["search", "x", "--store", "sqlite:///kb.sqlite3", "--model", "text-embedding-3-large"]) == 2
        )
        assert "was built with 'text-embedding-3-small'" in capsys.readouterr().err
        assert main(["search", "x", "--store", "sqlite:///kb.sqlite3", "--dimensions", "128"]) == 2
        assert main(["index", "docs", "--store", "sqlite:///kb.sqlite3", "--model", "nope"]) == 2
        assert "nope" in capsys.readouterr().err
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["search", "x", "--store", "sqlite:///kb.sqlite3"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    # An API or a store that fails is status 2 too (docs/cli.md), with the SDK's message.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with embeddings_server(status=400) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        assert main(["index", "docs", "--store", "sqlite:///other.sqlite3"]) == 2
    assert "The server had an error" in capsys.readouterr().err
    assert main(["search", "x", "--store", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"]) == 2
    assert capsys.readouterr().err.startswith("agentkit search: error: cannot connect to Postgres")


def test_index_into_pgvector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = require_pgvector()
    schema = f"t_{uuid.uuid4().hex[:10]}"
    store = f"{dsn}?name=docs&schema={schema}"
    monkeypatch.chdir(tmp_path)
    write_docs(tmp_path)
    try:
        with ScriptedModel([]).install():
            assert main(["index", "docs", "--store", store, "--dimensions", "256"]) == 0
            assert main(["index", "docs", "--store", store]) == 0
            assert " 0 chunks embedded" in capsys.readouterr().out.splitlines()[-1]
            assert main(["search", "Shipping to Japan", "--store", store, "-k", "1"]) == 0
            assert "docs/sub/shipping.txt" in capsys.readouterr().out
    finally:
        drop_schema(schema)


def test_chunks_are_token_bounded_overlap_and_cover_the_text() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + " ".join(f"word{i}_{j}" for j in range(40)) for i in range(30))
    chunks = chunk_text(text, model=MODEL, max_tokens=120, overlap=20)
    assert len(chunks) > 5
    assert all(count_text(c, model=MODEL) <= 120 for c in chunks)
    for i in range(30):  # every paragraph's words are in some chunk
        assert any(f"word{i}_39" in c for c in chunks) and any(f"Paragraph {i}:" in c for c in chunks)
    # Neighbours share text (the overlap).
    assert all(set(a.split()[-3:]) & set(b.split()) for a, b in itertools.pairwise(chunks))
    assert chunk_text("  \n ", model=MODEL) == []
    assert chunk_text("short", model=MODEL) == ["short"]
    with pytest.raises(ConfigurationError):
        chunk_text(text, model=MODEL, max_tokens=10, overlap=10)

"""Match requests on what they mean.

Two requests match when they go to the same endpoint with the same canonical JSON body: keys
sorted, secrets scrubbed as in the file, volatile fields dropped (``user``, ``prompt_cache_key``,
``safety_identifier``, and any the cassette is told to ignore). Host and headers never matter,
so a cassette recorded against one base URL replays against another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from ._format import decode_body
from ._scrub import scrub_body, scrub_uri

__all__ = ["VOLATILE_FIELDS", "canonical", "endpoint", "matchers"]

MODEL_ENDPOINTS = frozenset({"/chat/completions", "/responses", "/completions", "/embeddings"})
"""Endpoints of the model API (the rest of a URL, host and query, never matters for them)."""

VOLATILE_FIELDS = frozenset({"user", "prompt_cache_key", "safety_identifier"})
"""Top-level request fields that change between runs without changing the question."""

Matcher = Callable[[Any, Any], None]


def endpoint(uri: str) -> str:
    """The API endpoint of a URL, without host or version prefix: ``/chat/completions``."""
    path = urlsplit(uri).path
    if "/v1/" in path:
        path = "/" + path.split("/v1/", 1)[1]
    return path.rstrip("/") or "/"


def canonical(body: Any, ignore: Iterable[str] = ()) -> Any:
    """The body as parsed JSON, scrubbed, with volatile top-level fields removed.

    The recorded body was scrubbed on its way to disk, so the live one is scrubbed the same way
    before they are compared: a prompt or tool result that holds a secret-looking value still
    replays. Scrubbing is idempotent, so scrubbing the recorded body again changes nothing.
    """
    data = scrub_body(decode_body(body))
    if isinstance(data, dict):
        dropped = VOLATILE_FIELDS | set(ignore)
        return {k: v for k, v in data.items() if k not in dropped}
    return data


def matchers(mode: str, ignore: Sequence[str] = ()) -> list[Matcher]:
    """vcrpy matchers for a match mode.

    Args:
        mode: ``"body"`` (method, endpoint and canonical body) or ``"sequence"`` (method and
            endpoint only; interactions are then played in recorded order).
        ignore: More top-level body fields to leave out of the comparison.
    """

    def method(r1: Any, r2: Any) -> None:
        assert r1.method == r2.method, f"method {r1.method} != {r2.method}"

    def same_endpoint(r1: Any, r2: Any) -> None:
        assert endpoint(r1.uri) == endpoint(r2.uri), f"endpoint {endpoint(r1.uri)} != {endpoint(r2.uri)}"

    def body(r1: Any, r2: Any) -> None:
        assert canonical(r1.body, ignore) == canonical(r2.body, ignore), "body differs"

    def query(r1: Any, r2: Any) -> None:
        # Model requests match whatever their query string (an Azure api-version, a scrubbed
        # api-key); other recorded hosts (record_hosts=...) match on it too.
        if endpoint(r1.uri) in MODEL_ENDPOINTS:
            return
        assert scrub_uri(r1.uri).split("?", 1)[1:] == scrub_uri(r2.uri).split("?", 1)[1:], "query differs"

    if mode == "sequence":
        return [method, same_endpoint]
    if mode == "body":
        return [method, same_endpoint, query, body]
    raise ValueError(f"match must be 'body' or 'sequence', not {mode!r}")

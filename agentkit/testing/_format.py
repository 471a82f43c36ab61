"""The cassette file format: vcrpy's YAML, made readable and scrubbed.

Written cassettes store JSON bodies as YAML mappings (``body: {json: ...}`` for responses, a
mapping for requests), gzip already decoded, and multi-line text (server-sent events) as literal
blocks. Stock vcrpy cassettes load too: JSON strings, pretty-printed JSON, and gzip ``!!binary``.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import zlib
from typing import Any
from urllib.parse import urlsplit

from ._scrub import scrub_interaction

__all__ = ["decode_body", "load_interactions", "serializer"]

SCRIPTED_HOST = "scripted-model.invalid"
_GZIP_MAGIC = b"\x1f\x8b"


def decode_body(body: Any, headers: dict[str, list[str]] | None = None) -> Any:
    """Return a body as text or parsed JSON: gunzipped, decoded, parsed when it is JSON.

    Args:
        body: ``str``, ``bytes``, ``None``, or an already parsed value.
        headers: Response headers, to honour ``Content-Encoding``.
    """
    if isinstance(body, dict) and set(body) <= {"string", "json"}:
        body = body["json"] if "json" in body else body.get("string")
    if isinstance(body, bytes):
        # Decide from the bytes, not the header: stock vcrpy cassettes often hold a body that was
        # stored already decoded under a header that still says ``Content-Encoding: gzip``.
        if body[:2] == _GZIP_MAGIC:
            body = gzip.decompress(body)
        elif _header(headers, "content-encoding").lower() == "deflate":
            with contextlib.suppress(zlib.error):
                body = zlib.decompress(body)
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
    if isinstance(body, str) and body.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _header(headers: dict[str, list[str]] | None, name: str) -> str:
    for key, values in (headers or {}).items():
        if key.lower() == name and values:
            return str(values[0])
    return ""


def _drop_headers(headers: dict[str, list[str]], *names: str) -> dict[str, list[str]]:
    return {k: v for k, v in headers.items() if k.lower() not in names}


# The top-level fields of a request body are written in this order, then the rest sorted: the
# file then does not change when the code that builds requests adds its parameters in another
# order (nested values keep their order, which the schema and the conversation define).
_BODY_ORDER = ("model", "instructions", "messages", "input", "tools")


def _ordered_body(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    first = [k for k in _BODY_ORDER if k in body]
    return {k: body[k] for k in [*first, *sorted(k for k in body if k not in _BODY_ORDER)]}


def _readable(interaction: dict[str, Any]) -> dict[str, Any]:
    request = dict(interaction["request"])
    response = dict(interaction["response"])
    request["body"] = _ordered_body(decode_body(request.get("body")))
    headers = response.get("headers") or {}
    body = decode_body(response.get("body"), headers)
    response["headers"] = _drop_headers(headers, "content-encoding", "content-length", "transfer-encoding")
    if isinstance(body, (dict, list)):
        response["body"] = {"json": body}
    else:
        response["body"] = {"string": body if body is not None else ""}
    return scrub_interaction({"request": request, "response": response})


def _provenance(interactions: list[dict[str, Any]]) -> str:
    hosts = sorted({urlsplit(str(i["request"].get("uri", ""))).hostname or "" for i in interactions})
    if not hosts:
        how = "It holds no interactions."
    elif hosts == [SCRIPTED_HOST]:
        how = "It was produced by agentkit.testing.ScriptedModel: scripted replies, no live API was called."
    elif all(h in ("127.0.0.1", "localhost", "::1") for h in hosts):
        how = "It was recorded from a local server on this machine, not from a live API."
    else:
        how = f"It was recorded from live HTTP traffic to {', '.join(hosts)}."
    return (
        "# Cassette written by agentkit.testing (vcrpy format, JSON bodies shown as YAML).\n"
        f"# {how}\n"
        "# Credentials, cookies and account ids were removed before writing.\n"
    )


@functools.lru_cache(maxsize=1)
def _dumper() -> Any:
    """A YAML dumper: block style for nested data, literal blocks for multi-line text.

    Built on first use: PyYAML comes with the ``testing`` extra, and the plugin must import
    without it.
    """
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, represent_str)
    return Dumper


def _serialize(data: dict[str, Any]) -> str:
    import yaml

    interactions = [_readable(i) for i in data.get("interactions") or []]
    out: dict[str, Any] = {"interactions": interactions, "version": data.get("version", 1)}
    if data.get("metadata"):
        out["metadata"] = data["metadata"]
    text = yaml.dump(out, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=1_000_000)
    return _provenance(interactions) + text


def _deserialize(text: str) -> dict[str, Any]:
    from vcr.serializers import yamlserializer

    data: dict[str, Any] = yamlserializer.deserialize(text) or {}
    for interaction in data.get("interactions") or []:
        request = interaction["request"]
        if request.get("body") is not None and not isinstance(request["body"], (str, bytes)):
            request["body"] = json.dumps(request["body"], separators=(",", ":"), ensure_ascii=False)
        response = interaction["response"]
        headers = response.get("headers") or {}
        body = response.get("body")
        if isinstance(body, dict) and "json" in body:
            text_body: Any = json.dumps(body["json"], separators=(",", ":"), ensure_ascii=False)
        else:
            raw = body.get("string") if isinstance(body, dict) else body
            text_body = decode_body(raw, headers) if isinstance(raw, bytes) else raw
            if isinstance(text_body, (dict, list)):
                text_body = json.dumps(text_body, separators=(",", ":"), ensure_ascii=False)
        # Bodies are decoded here, so the client must not gunzip them again.
        response["headers"] = _drop_headers(headers, "content-encoding", "content-length")
        response["body"] = {"string": text_body if text_body is not None else ""}
    return data


class _Serializer:
    """The object vcrpy calls to turn cassette data into text and back."""

    @staticmethod
    def serialize(data: dict[str, Any]) -> str:
        return _serialize(data)

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        return _deserialize(text)


serializer = _Serializer()


def load_interactions(path: str) -> list[dict[str, Any]]:
    """Load a cassette (ours or stock vcrpy) as plain interactions with decoded bodies.

    Each interaction is ``{"request": {method, uri, body}, "response": {status, headers, body}}``
    where bodies are parsed JSON or text.
    """
    with open(path, encoding="utf-8") as f:
        data = _deserialize(f.read())
    out = []
    for interaction in data.get("interactions") or []:
        request, response = interaction["request"], interaction["response"]
        out.append(
            {
                "request": {**request, "body": decode_body(request.get("body"))},
                "response": {**response, "body": decode_body(response["body"].get("string"))},
            }
        )
    return out

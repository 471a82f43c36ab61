"""Count, encode and decode tokens offline, as the OpenAI API bills them.

The tokenizer is OpenAI's own ``tiktoken``. Its encoding files are not downloaded: they are read
from the ``bpe-openai`` wheel, which ships them as data files, and checked against the SHA-256
hashes ``tiktoken`` publishes for them (``tiktoken_ext/openai_public.py``, tiktoken 0.14.0) before
use. Nothing here opens a socket, and ``tiktoken``'s download cache is never touched.

`count_tokens` counts what a Chat Completions request is billed as ``usage.prompt_tokens``: every
message with its fixed overhead, names, the ``tool_calls`` of assistant messages, tool results,
and the ``tools`` definitions, which the API renders into the system prompt. The per-part
overheads below were fitted to real billed usage: the recordings in ``../shared/wire-recordings``
(gpt-4o and gpt-4o-mini, 2024-11 to 2026-02); ``tests/test_tokens.py`` checks them.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.metadata
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .exceptions import ConfigurationError, UserError
from .models import model_info

if TYPE_CHECKING:
    import tiktoken

__all__ = ["count_text", "count_tokens", "decode", "encode"]

# Hashes of the uncompressed .tiktoken files, as published in tiktoken 0.14.0's
# tiktoken_ext/openai_public.py (the ``expected_hash`` of each download).
_O200K_PATTERN: Final = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PATTERN: Final = "|".join(
    [
        r"""'(?i:[sdmt]|ll|ve|re)""",
        r"""[^\r\n\p{L}\p{N}]?+\p{L}++""",
        r"""\p{N}{1,3}+""",
        r""" ?[^\s\p{L}\p{N}]++[\r\n]*+""",
        r"""\s++$""",
        r"""\s*[\r\n]""",
        r"""\s+(?!\S)""",
        r"""\s""",
    ]
)
_ENCODINGS: Final[dict[str, tuple[str, str, dict[str, int]]]] = {
    "o200k_base": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        _O200K_PATTERN,
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    "cl100k_base": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        _CL100K_PATTERN,
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}

# Billed overheads of the chat format, in tokens (fitted to the recordings, see the docstring).
_PER_MESSAGE: Final = 3  # <|im_start|>, the separator after the role, <|im_end|>
_PER_NAME: Final = 1  # the separator before a message's ``name``
_REPLY_PRIMING: Final = 3  # <|im_start|>assistant<|im_sep|> that the reply starts from
# The rest were fitted (least maximum error) to the 19 billed requests with tools in the
# recordings; the API's exact rendering of tool calls is not public.
_PER_TOOL_CALL: Final = 8  # each entry of an assistant message's tool_calls, besides name and arguments
_PER_PARALLEL_CALLS: Final = 10  # an assistant message with more than one tool call
_TOOLS_BLOCK: Final = 5  # tool definitions with no system message
_TOOLS_WITH_SYSTEM: Final = 10  # tool definitions merged into an existing system message

_lock = threading.Lock()


def _data_file(name: str) -> bytes:
    try:
        dist = importlib.metadata.distribution("bpe-openai")
    except importlib.metadata.PackageNotFoundError as exc:  # pragma: no cover - a core dependency
        raise ConfigurationError(
            "The tokenizer data ships in the 'bpe-openai' package: pip install 'agentkit-openai'"
        ) from exc
    # The file is located through the installed distribution, without importing bpe_openai
    # (whose import parses both encodings in Python).
    path = Path(str(dist.locate_file(f"bpe_openai/data/{name}.tiktoken.gz")))
    return gzip.decompress(path.read_bytes())


@functools.cache
def _encoding(name: str) -> tiktoken.Encoding:
    import base64

    import tiktoken

    if name not in _ENCODINGS:
        raise ConfigurationError(
            f"No offline tokenizer for encoding {name!r}; known: {', '.join(_ENCODINGS)}"
        )
    expected_hash, pattern, special_tokens = _ENCODINGS[name]
    raw = _data_file(name)
    actual_hash = hashlib.sha256(raw).hexdigest()
    if actual_hash != expected_hash:
        raise ConfigurationError(
            f"The {name} tokenizer file from bpe-openai has SHA-256 {actual_hash}, not tiktoken's "
            f"published {expected_hash}; reinstall bpe-openai"
        )
    ranks = {
        base64.b64decode(token): int(rank) for token, rank in (line.split() for line in raw.splitlines())
    }
    return tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special_tokens)


def _encoding_for(model: str) -> tiktoken.Encoding:
    name = model_info(model).encoding
    if name is None:
        raise ConfigurationError(
            f"The tokenizer of model {model!r} is unknown: register it with an encoding "
            f"({', '.join(_ENCODINGS)}) to count its tokens"
        )
    with _lock:  # one thread builds an encoding; the others wait for it instead of building it too
        return _encoding(name)


def encode(text: str, *, model: str) -> list[int]:
    """Return the token ids of ``text`` for ``model``; special tokens are encoded as plain text.

    Raises:
        UnknownModelError: ``model`` is not in the model table.
        ConfigurationError: The model's tokenizer is not known.
    """
    return _encoding_for(model).encode_ordinary(text)


def decode(tokens: Sequence[int], *, model: str) -> str:
    """Return the text of token ids ``tokens`` for ``model`` (invalid UTF-8 is replaced).

    Raises:
        UnknownModelError: ``model`` is not in the model table.
        ConfigurationError: The model's tokenizer is not known.
        KeyError: A token id is not in the vocabulary.
    """
    return _encoding_for(model).decode(list(tokens))


def count_text(text: str, *, model: str) -> int:
    """Return how many tokens ``text`` is for ``model``, without any chat overhead."""
    return len(encode(text, model=model))


def count_tokens(
    messages: Iterable[Mapping[str, Any]], *, model: str, tools: Sequence[Mapping[str, Any]] | None = None
) -> int:
    """Return the prompt tokens a Chat Completions request with these messages and tools is billed.

    Args:
        messages: Chat Completions messages (``role``, ``content`` as a string or a list of
            ``text`` parts, optional ``name``, ``tool_calls``, ``tool_call_id``).
        model: The model name; its tokenizer comes from the model table.
        tools: The request's ``tools`` (``{"type": "function", "function": {...}}``).

    Returns:
        The number of prompt tokens; exact for messages without tool definitions on the
        recordings measured, within a few tokens with them.

    Raises:
        UnknownModelError: ``model`` is not in the model table.
        ConfigurationError: The model's tokenizer is not known.
        UserError: A message holds a part that cannot be counted offline (an image, audio, a file).
    """
    enc = _encoding_for(model)

    def n(text: str) -> int:
        return len(enc.encode_ordinary(text))

    messages = list(messages)
    has_system = any(m.get("role") in ("system", "developer") for m in messages)
    total = _REPLY_PRIMING
    for message in messages:
        total += _PER_MESSAGE + n(str(message.get("role", "")))
        total += n(_content_text(message.get("content")))
        # A tool message's ``name`` is not billed: the API identifies it by ``tool_call_id``.
        if message.get("name") and message.get("role") != "tool":
            total += _PER_NAME + n(str(message["name"]))
        tool_calls = message.get("tool_calls") or ()
        if len(tool_calls) > 1:
            total += _PER_PARALLEL_CALLS
        for call in tool_calls:
            function = call.get("function", {})
            total += _PER_TOOL_CALL + n(str(function.get("name", ""))) + n(str(function.get("arguments", "")))
    if tools:
        total += n(_render_tools(tools)) + (_TOOLS_WITH_SYSTEM if has_system else _TOOLS_BLOCK)
    return total


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            texts.append(part["text"])
        elif kind == "refusal":
            texts.append(part["refusal"])
        else:
            raise UserError(f"Cannot count tokens of a {kind!r} content part offline; only text parts")
    return "".join(texts)


def _render_tools(tools: Sequence[Mapping[str, Any]]) -> str:
    """Render tool definitions the way the API shows them to the model: a TypeScript namespace."""
    lines = ["namespace functions {", ""]
    for tool in tools:
        function = tool.get("function", tool)
        lines.extend(_comment(function.get("description")))
        parameters = function.get("parameters") or {}
        if parameters.get("properties"):
            lines.append(f"type {function['name']} = (_: {{")
            lines.append(_render_properties(parameters, 0, parameters))
            lines.append("}) => any;")
        else:
            lines.append(f"type {function['name']} = () => any;")
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)


def _comment(text: Any) -> list[str]:
    return [f"// {line}" for line in str(text).splitlines()] if text else []


def _render_properties(schema: Mapping[str, Any], indent: int, root: Mapping[str, Any]) -> str:
    required = set(schema.get("required") or ())
    lines = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = _deref(prop, root)
        if indent < 2:
            lines.extend(_comment(prop.get("description")))
        optional = "" if name in required else "?"
        lines.append(f"{name}{optional}: {_render_type(prop, indent, root)},")
    return "\n".join(" " * indent + line for line in lines)


def _deref(prop: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = prop.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return prop
    target: Any = root
    for key in ref[2:].split("/"):
        target = target.get(key, {}) if isinstance(target, Mapping) else {}
    return {**target, **{k: v for k, v in prop.items() if k != "$ref"}}


def _render_type(prop: Mapping[str, Any], indent: int, root: Mapping[str, Any]) -> str:
    prop = _deref(prop, root)
    if "enum" in prop:
        return " | ".join(json.dumps(value) for value in prop["enum"])
    for union in ("anyOf", "oneOf"):
        if union in prop:
            return " | ".join(_render_type(option, indent, root) for option in prop[union])
    kind = prop.get("type")
    if isinstance(kind, list):
        return " | ".join(_render_type({**prop, "type": k}, indent, root) for k in kind)
    if kind in ("integer", "number"):
        return "number"
    if kind in ("string", "boolean", "null"):
        return str(kind)
    if kind == "object" and prop.get("properties"):
        return "{\n" + _render_properties(prop, indent + 2, root) + "\n" + " " * indent + "}"
    if kind == "array":
        items = prop.get("items")
        return f"{_render_type(items, indent, root)}[]" if items else "any[]"
    return "any"

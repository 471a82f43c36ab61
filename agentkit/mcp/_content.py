"""Turn an MCP ``CallToolResult`` into the text a tool message carries.

A tool message holds text only (Chat Completions and Responses alike), so every content block
becomes text, in the server's order. Structured content is read only when the server sent no
text: the MCP spec asks servers to send the same result as text too (the SDK's servers do), and
the model should not read it twice.

====================  ===================================================================
block                 what the model reads
====================  ===================================================================
text                  the text
structured content    compact JSON, only when no text block came with it
image, audio, blob    :func:`binary_part`: ``{"media_type", "encoding": "base64", "data"}``
embedded text         the resource's URI, then its text
resource link         the link's URI, name and media type
====================  ===================================================================
"""

from __future__ import annotations

from typing import Any

from agentkit._serialize import serialize_output, to_json

__all__ = ["binary_part", "result_text"]


def binary_part(mime_type: str | None, data: str) -> str:
    """Render base64 ``data`` (an image, audio, a binary resource) for a tool message.

    The one place where agentkit decides how bytes reach the model from an MCP tool: the same
    JSON object a ``bytes`` result of an ``@tool`` function becomes, with the server's media type.
    """
    return to_json(
        {"media_type": mime_type or "application/octet-stream", "encoding": "base64", "data": data}
    )


def result_text(result: Any) -> str:
    """Render a ``CallToolResult`` (content blocks and structured content) as one string."""
    parts: list[str] = []
    structured = result.structured_content
    if structured is not None and not any(block.type == "text" for block in result.content):
        parts.append(serialize_output(structured))
    for block in result.content:
        kind = block.type
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(binary_part(block.mime_type, block.data))
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            if text is not None:
                parts.append(f"[resource: {resource.uri}]\n{text}")
            else:
                parts.append(f"[resource: {resource.uri}]\n" + binary_part(resource.mime_type, resource.blob))
        elif kind == "resource_link":
            details = ", ".join(str(x) for x in (block.name, block.mime_type) if x)
            parts.append(f"[resource link: {block.uri}{' (' + details + ')' if details else ''}]")
        else:  # A block type newer than this code: keep it rather than drop it.
            parts.append(serialize_output(block.model_dump(mode="json", by_alias=True, exclude_none=True)))
    return "\n".join(parts)

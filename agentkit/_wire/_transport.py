"""Post a request body through the ``openai`` client, skipping its parameter transform.

``client.chat.completions.create(**params)`` first walks every message of the history through the
SDK's TypedDict-directed transform, which costs more than the rest of a turn together and grows
with the conversation. The loop's history is already plain JSON, so it is posted as it is, through
the same client: base URL, auth, headers, retries, timeouts and error classes are all the SDK's.
``extra_headers``, ``extra_query``, ``extra_body`` and ``timeout`` in ``model_settings`` become
request options, exactly as they would on ``create``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from openai import AsyncOpenAI

_OPTION_KEYS = {"extra_headers": "headers", "extra_query": "params", "timeout": "timeout"}
_JSON = {"Content-Type": "application/json"}


def _split(params: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """Serialize the body once and pull the request options out of ``params``.

    The body goes to the SDK as bytes: given a dict, the SDK deep-copies it (the whole history)
    on every request before serializing it.
    """
    options: dict[str, Any] = {"security": {"bearer_auth": True}, "headers": _JSON}
    if any(key in params for key in _OPTION_KEYS) or "extra_body" in params:
        params = dict(params)
        extra_body = params.pop("extra_body", None)
        if extra_body:
            params.update(extra_body)
        for key, option in _OPTION_KEYS.items():
            value = params.pop(key, None)
            if value is not None:
                options[option] = {**_JSON, **value} if option == "headers" else value
    return json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode(), options


async def post_json(client: AsyncOpenAI, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """POST ``params`` and return the decoded JSON reply (API errors raise the SDK's exceptions)."""
    import httpx2  # the SDK has imported it already; kept out of ``import agentkit``

    body, options = _split(params)
    response = await client.post(path, content=body, options=cast(Any, options), cast_to=httpx2.Response)
    return cast(dict[str, Any], response.json())


async def post_stream(client: AsyncOpenAI, path: str, params: dict[str, Any]) -> Any:
    """POST ``params`` with ``stream: true``; return the SDK's ``AsyncStream`` of decoded JSON events."""
    from openai import AsyncStream

    body, options = _split(params)
    return await client.post(
        path,
        content=body,
        options=cast(Any, options),
        cast_to=dict,
        stream=True,
        stream_cls=AsyncStream[dict[str, Any]],
    )

"""Post a request body through the ``openai`` client, skipping its parameter transform.

``client.chat.completions.create(**params)`` first walks every message of the history through the
SDK's TypedDict-directed transform, which costs more than the rest of a turn together and grows
with the conversation. The loop's history is already plain JSON, so it is posted as it is, through
the same client: base URL, auth, headers, retries, timeouts and error classes are all the SDK's.
``extra_headers``, ``extra_query``, ``extra_body`` and ``timeout`` in ``model_settings`` become
request options, exactly as they would on ``create``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from openai import AsyncOpenAI

_OPTION_KEYS = {
    "extra_headers": "headers",
    "extra_query": "params",
    "extra_body": "extra_json",
    "timeout": "timeout",
}


def _split(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    options: dict[str, Any] = {"security": {"bearer_auth": True}}
    if any(key in params for key in _OPTION_KEYS):
        params = dict(params)
        for key, option in _OPTION_KEYS.items():
            if key in params:
                value = params.pop(key)
                if value is not None:
                    options[option] = value
    return params, options


async def post_json(client: AsyncOpenAI, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """POST ``params`` and return the decoded JSON reply (API errors raise the SDK's exceptions)."""
    import httpx2  # the SDK has imported it already; kept out of ``import agentkit``

    body, options = _split(params)
    response = await client.post(path, body=body, options=cast(Any, options), cast_to=httpx2.Response)
    return cast(dict[str, Any], response.json())


async def post_stream(client: AsyncOpenAI, path: str, params: dict[str, Any]) -> Any:
    """POST ``params`` with ``stream: true``; return the SDK's ``AsyncStream`` of decoded JSON events."""
    from openai import AsyncStream

    body, options = _split(params)
    return await client.post(
        path,
        body=body,
        options=cast(Any, options),
        cast_to=dict,
        stream=True,
        stream_cls=AsyncStream[dict[str, Any]],
    )

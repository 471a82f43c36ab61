"""A scripted model: canned replies served through the real ``openai`` SDK, with no network.

The model is an ``httpx2.MockTransport`` behind a real ``AsyncOpenAI`` (or ``OpenAI``) client, so
every reply goes through the SDK's own parsing, streaming and error mapping. The same ``reply()``
is rendered as Chat Completions or Responses, whole or streamed, whichever the request asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx2

from .._client import override_client
from .._serialize import to_json
from . import _wire
from ._embeddings import embeddings_json
from ._moderation import Flagger, moderation_json
from ._pairing import pairing_problem

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

__all__ = ["APIErrorReply", "Reply", "ScriptedModel", "ScriptedRequest", "ToolCallReply"]

BASE_URL = "https://scripted-model.invalid/v1"
"""Where scripted clients point; ``.invalid`` can never resolve, so nothing leaks to a real host."""


@dataclass(frozen=True)
class ToolCallReply:
    """One tool call in a scripted reply."""

    name: str
    """The function name."""
    arguments: str
    """The JSON arguments string, sent as is (it may be deliberately invalid)."""
    id: str | None = None
    """The ``call_…`` id; ``None`` assigns ``call_1``, ``call_2``, … in order."""


@dataclass(frozen=True)
class Reply:
    """One scripted model reply: text, tool calls, or both."""

    text: str | None = None
    """The assistant's text."""
    tool_calls: tuple[ToolCallReply, ...] = ()
    """Tool calls, in the order the model makes them."""
    usage: tuple[int, int] | tuple[int, int, int] = (0, 0)
    """``(input_tokens, output_tokens)`` reported for this reply, optionally ``cached_tokens`` third
    (the part of the input served from the prompt cache)."""
    refusal: str | None = None
    """A refusal message instead of an answer."""
    finish_reason: str | None = None
    """Override ``stop``/``tool_calls``; ``"length"`` also makes a Responses reply ``incomplete``."""


@dataclass(frozen=True)
class APIErrorReply:
    """A scripted HTTP error with OpenAI's error body, so the SDK raises its own exception."""

    status: int
    """HTTP status code: 429 gives ``openai.RateLimitError``, 500 ``openai.InternalServerError``."""
    message: str | None = None
    """``error.message``; ``None`` uses the API's usual text for the status."""
    type: str | None = None
    """``error.type``; ``None`` uses the API's usual value for the status."""
    code: str | None = None
    """``error.code``; ``None`` uses the API's usual value for the status."""
    param: str | None = None
    """``error.param``."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers, e.g. ``{"retry-after": "0"}``."""


ScriptItem = Reply | APIErrorReply
Script = Sequence[ScriptItem] | Callable[["ScriptedRequest"], ScriptItem]


class ScriptedRequest(dict[str, Any]):
    """A request the model received: its parsed JSON body, plus where it was sent."""

    path: str
    """The endpoint, ``"/chat/completions"`` or ``"/responses"``."""
    headers: dict[str, str]
    """The request headers (lower-case names)."""

    def __init__(self, body: dict[str, Any], path: str, headers: dict[str, str]) -> None:
        super().__init__(body)
        self.path = path
        self.headers = headers

    @property
    def api(self) -> str:
        """``"chat"`` or ``"responses"``."""
        return "responses" if self.path.endswith("/responses") else "chat"


def reply(
    text: str | None = None,
    *,
    tool_calls: Sequence[ToolCallReply] = (),
    usage: tuple[int, int] | tuple[int, int, int] = (0, 0),
    refusal: str | None = None,
    finish_reason: str | None = None,
) -> Reply:
    """Script one model reply.

    Args:
        text: The assistant's text (a final answer, or text alongside tool calls).
        tool_calls: Calls made with :func:`tool_call`.
        usage: ``(input_tokens, output_tokens)`` to report, or
            ``(input_tokens, output_tokens, cached_tokens)``.
        refusal: A refusal message instead of text.
        finish_reason: Override the finish reason, e.g. ``"length"`` for a truncated answer.
    """
    return Reply(text, tuple(tool_calls), usage, refusal, finish_reason)


def tool_call(name: str, arguments: dict[str, Any] | str = "{}", *, id: str | None = None) -> ToolCallReply:
    """Script one tool call; a dict of arguments is sent as compact JSON (sets sorted), a string as is."""
    if not isinstance(arguments, str):
        arguments = to_json(arguments)
    return ToolCallReply(name, arguments, id)


def api_error(
    status: int,
    *,
    message: str | None = None,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> APIErrorReply:
    """Script an HTTP error answered with OpenAI's error body (``api_error(429)``, ``api_error(500)``)."""
    return APIErrorReply(status, message, type, code, param, dict(headers or {}))


class ScriptedModel:
    """A fake OpenAI model that answers from a script, through the real SDK.

    Example::

        model = ScriptedModel([
            reply(tool_calls=[tool_call("get_weather", {"city": "Paris"})]),
            reply("It is sunny in Paris."),
        ])
        with model.install():
            result = await agent.run("Weather in Paris?")
        assert model.requests[1]["messages"][-1]["role"] == "tool"
        model.assert_complete()
    """

    def __init__(
        self,
        script: Script,
        *,
        max_retries: int = 0,
        chunk_size: int = 4,
        models: Sequence[str] = (),
        flag: Flagger | None = None,
    ) -> None:
        """Create the model.

        Args:
            script: Replies to give in order, or a function from the request to a reply.
            models: The model ids ``GET /models`` (``client.models.list()``) answers with; those
                requests are not scripted replies and are not in ``requests``.
            max_retries: The SDK's retries for clients made by :meth:`client`; 0 so that a
                scripted 429 or 500 surfaces at once.
            chunk_size: Characters per streamed fragment of tool-call arguments.
            flag: Answers ``POST /moderations``: ``flag(text)`` returns the categories to flag
                (e.g. ``["violence"]``); ``None`` lets every text pass. Moderation requests are
                kept in ``moderation_requests`` and use no scripted reply.
        """
        self._replies: list[ScriptItem] | None = None
        self._function: Callable[[ScriptedRequest], ScriptItem] | None = None
        if callable(script):
            self._function = script
        else:
            self._replies = list(script)
        self.max_retries = max_retries
        self.chunk_size = chunk_size
        self.models = list(models)
        self.requests: list[ScriptedRequest] = []
        """Every chat or responses request received, in order."""
        self.flag = flag
        self.moderation_requests: list[dict[str, Any]] = []
        """Every ``/moderations`` request body received, in order."""
        self.embedding_requests: list[ScriptedRequest] = []
        """Every ``/embeddings`` request received, in order; they are answered with deterministic
        vectors (a hashed bag of words) and use no scripted reply."""
        self._explicit_ids = {c.id for r in self._replies or () if isinstance(r, Reply) for c in r.tool_calls}
        self._next_call = 0

    # --- clients ---

    def transport(self) -> httpx2.MockTransport:
        """The transport serving this script, for building a client by hand."""
        return httpx2.MockTransport(self._handle)

    def client(self, *, max_retries: int | None = None) -> AsyncOpenAI:
        """A real ``openai.AsyncOpenAI`` client answered by this model."""
        from openai import AsyncOpenAI

        return AsyncOpenAI(
            api_key="test",
            base_url=BASE_URL,
            http_client=httpx2.AsyncClient(transport=self.transport()),
            max_retries=self.max_retries if max_retries is None else max_retries,
        )

    def sync_client(self, *, max_retries: int | None = None) -> OpenAI:
        """A real ``openai.OpenAI`` client answered by this model."""
        from openai import OpenAI

        return OpenAI(
            api_key="test",
            base_url=BASE_URL,
            http_client=httpx2.Client(transport=self.transport()),
            max_retries=self.max_retries if max_retries is None else max_retries,
        )

    @contextmanager
    def install(self) -> Iterator[AsyncOpenAI]:
        """Make every ``Agent`` without an explicit ``client=`` use this model inside the block."""
        with override_client(self.client()) as client:
            yield client

    # --- assertions ---

    @property
    def remaining(self) -> int:
        """How many scripted replies have not been served yet (0 for a function script)."""
        return max(0, len(self._replies) - len(self.requests)) if self._replies is not None else 0

    def assert_complete(self) -> None:
        """Raise ``AssertionError`` if scripted replies were left unused."""
        if self.remaining:
            unused = self._replies[len(self.requests) :] if self._replies else []
            what = "reply was" if self.remaining == 1 else "replies were"
            raise AssertionError(
                f"ScriptedModel: {self.remaining} scripted {what} never requested "
                f"(received {len(self.requests)} requests): {unused!r}"
            )

    # --- serving ---

    def _unscripted(self, request: httpx2.Request, path: str) -> httpx2.Response | None:
        """Answer the endpoints that use no scripted reply (models, moderations, embeddings)."""
        if request.method == "GET" and path == "/models":
            return httpx2.Response(200, json=_wire.models_json(self.models))
        if request.method == "POST" and path == "/moderations":
            self.moderation_requests.append(json.loads(request.content or b"{}"))
            body = moderation_json(self.moderation_requests[-1], self.flag, len(self.moderation_requests))
            return httpx2.Response(200, json=body)
        if request.method == "POST" and path == "/embeddings":
            body = json.loads(request.content or b"{}")
            self.embedding_requests.append(ScriptedRequest(body, path, dict(request.headers)))
            headers = {"x-request-id": f"req_embeddings{len(self.embedding_requests)}"}
            return httpx2.Response(200, json=embeddings_json(body), headers=headers)
        return None

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path.startswith("/v1/"):
            path = path[3:]
        other = self._unscripted(request, path)
        if other is not None:
            return other
        if request.method != "POST" or path not in ("/chat/completions", "/responses"):
            raise AssertionError(
                "ScriptedModel serves POST /chat/completions, /responses, /embeddings, /moderations "
                f"and GET /models, not {request.method} {path}"
            )
        body = json.loads(request.content or b"{}")
        received = ScriptedRequest(body, path, {k.lower(): v for k, v in request.headers.items()})
        self.requests.append(received)
        number = len(self.requests)
        problem = pairing_problem(body)
        if problem is not None:
            # I1 broken: answer as the API does, so the failure shows wherever it happens.
            error = _wire.error_json(400, problem, "invalid_request_error", None, "messages")
            return httpx2.Response(400, json=error, headers={"x-request-id": f"req_scripted{number}"})
        if self._function is not None:
            item = self._function(received)
        else:
            assert self._replies is not None
            if number > len(self._replies):
                raise AssertionError(
                    f"ScriptedModel: the script ran out: request #{number} to {path} has no reply "
                    f"({len(self._replies)} were scripted). Last message: {_last_input(received)!r}"
                )
            item = self._replies[number - 1]
        if isinstance(item, APIErrorReply):
            error = _wire.error_json(item.status, item.message, item.type, item.code, item.param)
            headers = {"x-request-id": f"req_scripted{number}", **item.headers}
            return httpx2.Response(item.status, json=error, headers=headers)
        if not isinstance(item, Reply):
            raise TypeError(f"A script item must come from reply() or api_error(), not {item!r}")
        rendered = self._render(item, number, str(body.get("model", "")))
        return _response(rendered, received)

    def _render(self, item: Reply, number: int, model: str) -> _wire.RenderedReply:
        calls = []
        for call in item.tool_calls:
            call_id = call.id or self._auto_id()
            suffix = call_id.removeprefix("call_")
            calls.append(_wire.RenderedCall(call_id, f"fc_{suffix}", call.name, call.arguments))
        finish = item.finish_reason or ("tool_calls" if calls else "stop")
        return _wire.RenderedReply(
            number, model, item.text, item.refusal, calls, item.usage, finish, self.chunk_size
        )

    def _auto_id(self) -> str:
        while True:
            self._next_call += 1
            call_id = f"call_{self._next_call}"
            if call_id not in self._explicit_ids:
                return call_id


def _response(reply: _wire.RenderedReply, request: ScriptedRequest) -> httpx2.Response:
    headers = {"x-request-id": f"req_scripted{reply.number}", "openai-version": "2020-10-01"}
    if not request.get("stream"):
        data = _wire.responses_json(reply, request) if request.api == "responses" else _wire.chat_json(reply)
        return httpx2.Response(200, json=data, headers=headers)
    if request.api == "responses":
        events = list(_wire.responses_sse(reply, request))
    else:
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        events = list(_wire.chat_sse(reply, include_usage))
    headers["content-type"] = "text/event-stream; charset=utf-8"
    return httpx2.Response(200, content="".join(events).encode(), headers=headers)


def _last_input(request: ScriptedRequest) -> Any:
    items = request.get("messages") or request.get("input") or []
    return items[-1] if isinstance(items, list) and items else items

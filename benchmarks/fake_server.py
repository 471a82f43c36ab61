"""A fake OpenAI-compatible server on 127.0.0.1 for the benchmarks (no dependencies).

The server is stateless. The first user message says ``turns=T calls=C latency=MS``; the turn is
the number of assistant turns already in the request. For turn < T it answers C tool calls to
``lookup``; then it answers ``FINAL results=N``, N being the tool results it was sent. It speaks
``/v1/chat/completions`` (JSON and SSE) and ``/v1/responses`` (JSON and SSE), with HTTP/1.1
keep-alive. ``/v1/embeddings`` answers every input with a fixed random unit vector (base64 when
asked) after ``--embeddings-latency-ms``.

    python benchmarks/fake_server.py --port 0    # prints the port it bound
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import Any

EMBEDDINGS_LATENCY = 0.0
_VECTORS: dict[tuple[int, bool], str] = {}
_SPEC = re.compile(r"turns=(\d+) calls=(\d+)(?: latency=(\d+))?")


def _spec(prompt: str) -> tuple[int, int, float]:
    match = _SPEC.search(prompt)
    if not match:
        return 0, 0, 0.0
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0) / 1000


def _chat(body: dict[str, Any]) -> tuple[list[dict[str, Any]], float]:
    messages = body["messages"]
    prompt = next(m["content"] for m in messages if m["role"] == "user")
    turns, calls, latency = _spec(prompt)
    turn = sum(1 for m in messages if m["role"] == "assistant")
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    if turn < turns:
        tool_calls = [
            {
                "id": f"call_{turn}_{i}",
                "type": "function",
                "function": {"name": "lookup", "arguments": json.dumps({"key": f"k{turn}_{i}"})},
            }
            for i in range(calls)
        ]
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": tool_calls}
        finish = "tool_calls"
    else:
        results = sum(1 for m in messages if m["role"] == "tool" and "value-of-" in str(m.get("content")))
        message = {"role": "assistant", "content": f"FINAL results={results}"}
        finish = "stop"
    completion = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }
    if not body.get("stream"):
        return [completion], latency
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
    chunks: list[dict[str, Any]] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    if message.get("tool_calls"):
        for i, tc in enumerate(message["tool_calls"]):
            head = {
                "index": i,
                "id": tc["id"],
                "type": "function",
                "function": {"name": "lookup", "arguments": ""},
            }
            args = tc["function"]["arguments"]
            chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [head]}}]})
            for part in (args[: len(args) // 2], args[len(args) // 2 :]):
                delta = {"tool_calls": [{"index": i, "function": {"arguments": part}}]}
                chunks.append({**base, "choices": [{"index": 0, "delta": delta}]})
    else:
        for word in message["content"].split(" "):
            chunks.append({**base, "choices": [{"index": 0, "delta": {"content": word + " "}}]})
        chunks[-1]["choices"][0]["delta"]["content"] = chunks[-1]["choices"][0]["delta"]["content"].rstrip()
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    chunks.append({**base, "choices": [], "usage": usage})
    return chunks, latency


def _responses(body: dict[str, Any]) -> tuple[list[dict[str, Any]], float]:
    items = body["input"]
    prompt = next(i["content"] for i in items if i.get("role") == "user")
    turns, calls, latency = _spec(prompt)
    turn = sum(1 for i in items if i.get("type") == "function_call") // max(calls, 1)
    if turn < turns:
        output = [
            {
                "type": "function_call",
                "id": f"fc_{turn}_{i}",
                "call_id": f"call_{turn}_{i}",
                "name": "lookup",
                "arguments": json.dumps({"key": f"k{turn}_{i}"}),
                "status": "completed",
            }
            for i in range(calls)
        ]
    else:
        results = sum(
            1 for i in items if i.get("type") == "function_call_output" and "value-of-" in i["output"]
        )
        text = f"FINAL results={results}"
        content = [{"type": "output_text", "text": text, "annotations": []}]
        output = [
            {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": content}
        ]
    response = {
        "id": "resp_fake",
        "object": "response",
        "created_at": 0,
        "status": "completed",
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
    }
    if not body.get("stream"):
        return [response], latency
    events: list[dict[str, Any]] = [{"type": "response.created", "response": {**response, "output": []}}]
    for index, item in enumerate(output):
        events.append({"type": "response.output_item.added", "output_index": index, "item": item})
        if item["type"] == "message":
            delta = {"type": "response.output_text.delta", "item_id": item["id"], "output_index": index}
            events.append({**delta, "content_index": 0, "delta": item["content"][0]["text"]})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": response})
    for n, event in enumerate(events):
        event["sequence_number"] = n
    return events, latency


def _embeddings(body: dict[str, Any]) -> tuple[list[dict[str, Any]], float]:
    dims = int(body.get("dimensions") or 1536)
    as_base64 = body.get("encoding_format") == "base64"
    if (dims, as_base64) not in _VECTORS:
        import base64
        import random
        import struct

        values = [random.Random(dims).gauss(0.0, 1.0) for _ in range(dims)]
        norm = sum(v * v for v in values) ** 0.5
        values = [v / norm for v in values]
        packed = base64.b64encode(struct.pack(f"<{dims}f", *values)).decode()
        _VECTORS[dims, as_base64] = json.dumps(packed if as_base64 else values)
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    embedding = _VECTORS[dims, as_base64]
    # Built as text: json.dumps over 2,048 vectors would make the server the bottleneck.
    data = ",".join(
        f'{{"object":"embedding","index":{i},"embedding":{embedding}}}' for i in range(len(inputs))
    )
    tokens = sum(len(str(t).split()) for t in inputs)
    text = (
        f'{{"object":"list","data":[{data}],"model":{json.dumps(body["model"])},'
        f'"usage":{{"prompt_tokens":{tokens},"total_tokens":{tokens}}}}}'
    )
    return [{"raw": text}], EMBEDDINGS_LATENCY


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            body = json.loads(await reader.readexactly(length)) if length else {}
            if path.endswith("/embeddings"):
                payloads, latency = _embeddings(body)
            elif path.endswith("/responses"):
                payloads, latency = _responses(body)
            else:
                payloads, latency = _chat(body)
            if latency:
                await asyncio.sleep(latency)
            if body.get("stream"):
                if path.endswith("/responses"):
                    text = "".join(f"event: {p['type']}\ndata: {json.dumps(p)}\n\n" for p in payloads)
                else:
                    text = "".join(f"data: {json.dumps(p)}\n\n" for p in payloads) + "data: [DONE]\n\n"
                data, kind = text.encode(), b"text/event-stream"
            elif "raw" in payloads[0]:
                data, kind = payloads[0]["raw"].encode(), b"application/json"
            else:
                data, kind = json.dumps(payloads[0]).encode(), b"application/json"
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: "
                + kind
                + b"\r\ncontent-length: "
                + str(len(data)).encode()
                + b"\r\nconnection: keep-alive\r\n\r\n"
                + data
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", port, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--embeddings-latency-ms", type=float, default=0.0)
    options = parser.parse_args()
    EMBEDDINGS_LATENCY = options.embeddings_latency_ms / 1000
    asyncio.run(serve(options.port))

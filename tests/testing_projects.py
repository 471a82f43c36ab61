"""Source of the small projects the test-kit tests build in a temp dir, as a user would have them."""

from __future__ import annotations

import gzip
import json
from http.server import BaseHTTPRequestHandler
from typing import Any

FAKE_KEY = "sk-canary-0123456789abcdefXYZ"
FAKE_ORG = "org-canarycanary0123456789"
FAKE_PROJECT = "proj_canarycanary0123456789"
FAKE_COOKIE = "__cf_bm=canary-cookie-value-42"


class FakeOpenAI(BaseHTTPRequestHandler):
    """A tiny stand-in for api.openai.com on 127.0.0.1 that answers like the real one."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        last = body["messages"][-1]
        text = f"You said: {last.get('content')}"
        payload: dict[str, Any] = {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "created": 1,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            # Servers echo things back; a leaked credential in a body must be scrubbed too.
            "debug": {"api_key": FAKE_KEY, "note": f"Bearer {FAKE_KEY}"},
        }
        data = gzip.compress(json.dumps(payload).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Set-Cookie", FAKE_COOKIE)
        self.send_header("openai-organization", FAKE_ORG)
        self.send_header("openai-project", FAKE_PROJECT)
        self.send_header("x-request-id", "req_local")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


# A conftest with an OpenAI-compatible model on 127.0.0.1 (like a user's local fake or vLLM) and
# the user's own web service, which answers POST /chat by asking the model. Both count requests.
SERVERS = """
import json, os, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest

HITS = {"model": 0, "app": 0}


class Model(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        HITS["model"] += 1
        text = "model says: " + body["messages"][-1]["content"]
        data = json.dumps({
            "id": "chatcmpl-local", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def model_url():
    if os.environ.get("MODEL_DOWN"):
        yield "http://127.0.0.1:9/v1"  # nothing listens: only a cassette can answer
        return
    server = serve(Model)
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture
def app_url(model_url):
    client = openai.OpenAI(api_key="sk-local", base_url=model_url, max_retries=0)

    class App(BaseHTTPRequestHandler):
        def do_POST(self):
            question = self.rfile.read(int(self.headers["content-length"])).decode()
            HITS["app"] += 1
            done = client.chat.completions.create(model="m", messages=[{"role": "user", "content": question}])
            data = done.choices[0].message.content.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = serve(App)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
"""

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"

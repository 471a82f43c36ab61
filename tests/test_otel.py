"""OpenTelemetry spans with the GenAI conventions, checked with the SDK's in-memory exporter.

A tracer provider can be set once per process, so each case runs in its own interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentkit import Agent, tool
    from agentkit.testing import ScriptedModel, reply, tool_call

    if sys.argv[1] == "provider":
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)

    @tool
    def get_weather(city: str) -> str:
        '''Get the weather.

        Args:
            city: The city.
        '''
        return f"sunny in {city}"

    async def main() -> None:
        model = ScriptedModel([
            reply(tool_calls=[tool_call("get_weather", {"city": "Paris"}, id="c1")], usage=(11, 3)),
            reply("Sunny.", usage=(20, 2)),
        ])
        with model.install():
            await Agent(name="weather", tools=[get_weather]).run("Weather in Paris?")

    asyncio.run(main())
    spans = exporter.get_finished_spans() if sys.argv[1] == "provider" else []
    print(json.dumps([
        {
            "name": s.name,
            "parent": s.parent.span_id if s.parent else None,
            "id": s.context.span_id,
            "attributes": dict(s.attributes),
            "status": s.status.status_code.name,
        }
        for s in spans
    ]))
    """
)


def spans(tmp_path: Path, mode: str, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    script = tmp_path / "traced.py"
    script.write_text(SCRIPT)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run(
        [sys.executable, str(script), mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**environ, **(env or {})},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_spans_follow_the_genai_conventions(tmp_path: Path) -> None:
    by_name = {s["name"]: s for s in spans(tmp_path, "provider")}
    assert sorted(by_name) == ["chat gpt-4o-mini", "execute_tool get_weather", "invoke_agent weather"]
    run = by_name["invoke_agent weather"]
    tool = by_name["execute_tool get_weather"]
    assert run["parent"] is None
    assert run["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert run["attributes"]["gen_ai.usage.input_tokens"] == 31
    assert tool["parent"] == run["id"]
    assert tool["attributes"] == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": "c1",
    }
    models = [s for s in spans(tmp_path, "provider") if s["name"].startswith("chat ")]
    assert [m["attributes"]["gen_ai.usage.input_tokens"] for m in models] == [11, 20]
    assert [m["attributes"]["gen_ai.usage.output_tokens"] for m in models] == [3, 2]
    assert all(m["attributes"]["gen_ai.request.model"] == "gpt-4o-mini" for m in models)
    assert all(m["attributes"]["gen_ai.operation.name"] == "chat" for m in models)
    assert all(m["parent"] == models[0]["parent"] for m in models)


def test_tool_content_only_on_opt_in(tmp_path: Path) -> None:
    env = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    tool = next(s for s in spans(tmp_path, "provider", env) if s["name"].startswith("execute_tool"))
    assert tool["attributes"]["gen_ai.tool.call.arguments"] == '{"city":"Paris"}'
    assert tool["attributes"]["gen_ai.tool.call.result"] == "sunny in Paris"


def test_no_provider_no_spans_and_no_import(tmp_path: Path) -> None:
    code = (
        "import sys, asyncio; from agentkit import Agent; from agentkit.testing import ScriptedModel, reply\n"
        "m = ScriptedModel([reply('hi')])\n"
        "with m.install(): asyncio.run(Agent().run('x'))\n"
        "print('opentelemetry' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"

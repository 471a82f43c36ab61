"""The tutorial's agent with real tools: Open-Meteo weather, and e-mail over SMTP.

``get_current_weather`` (``tools/weather.py``) asks Open-Meteo; ``send_email``
(``tools/send_email.py``) sends over SMTP with STARTTLS, at most once per tool call (a session
ledger), and only after a person approves: the run pauses with the e-mail in
``result.pending_tool_calls`` and resumes with the decision.

    OPENAI_API_KEY=sk-... SMTP_HOST=... SMTP_FROM=... SMTP_USERNAME=... SMTP_PASSWORD=... \\
        python examples/weather_email.py                  # live: Open-Meteo and your SMTP server
    python examples/weather_email.py                      # offline, see below

Offline, agentkit's scripted model plays the model, an httpx2 mock transport answers in
Open-Meteo's documented format, and an SMTP server (aiosmtpd, a dev dependency) runs on
127.0.0.1; the message it receives is printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from email import message_from_string, policy
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/ is in the repository, not the wheel

import httpx2

from agentkit import Agent, RunResult
from agentkit.sessions import MemorySession
from tools.send_email import SMTPSettings, make_send_email
from tools.weather import make_get_current_weather

REQUEST = "Check the weather in Oslo and e-mail it to ada@example.com."


def open_meteo_stand_in(request: httpx2.Request) -> httpx2.Response:
    """Open-Meteo's documented response shapes (open-meteo.com/en/docs), for Oslo only."""
    if request.url.path.endswith("/search"):
        oslo = {
            "name": "Oslo",
            "latitude": 59.91273,
            "longitude": 10.74609,
            "country": "Norway",
            "admin1": "Oslo",
        }
        return httpx2.Response(200, json={"results": [oslo], "generationtime_ms": 0.4})
    units = {"temperature_2m": "°C", "apparent_temperature": "°C", "wind_speed_10m": "km/h"}
    current = {
        "time": "2026-11-29T17:00",
        "temperature_2m": -2.5,
        "apparent_temperature": -6.0,
        "relative_humidity_2m": 86,
        "weather_code": 71,
        "wind_speed_10m": 11.2,
    }
    return httpx2.Response(200, json={"timezone": "Europe/Oslo", "current_units": units, "current": current})


async def run(agent: Agent[Any, Any], thread: MemorySession) -> RunResult[Any]:
    result = await agent.run(REQUEST, session=thread)
    while result.pending_tool_calls:  # A person would read these; the example approves them.
        for call in result.pending_tool_calls:
            print(f"approval needed: {call.name}({call.arguments})")
        result = await agent.run(session=thread, decisions=[c.approve() for c in result.pending_tool_calls])
    return result


async def live() -> RunResult[Any]:
    tools = [
        make_get_current_weather(),
        make_send_email(SMTPSettings.from_env(), ledger=MemorySession("sent-email")),
    ]
    return await run(Agent(model="gpt-4o-mini", tools=tools), MemorySession("weather-email"))


async def offline() -> RunResult[Any]:
    from aiosmtpd.controller import Controller

    from agentkit.testing import ScriptedModel, reply, tool_call

    received: list[str] = []

    class Inbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content.decode())
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        weather = make_get_current_weather(transport=httpx2.MockTransport(open_meteo_stand_in))
        # A local relay: no TLS, no login. Against a real server keep the default, tls="starttls".
        settings = SMTPSettings(host="127.0.0.1", port=port, sender="agent@example.com", tls="none")
        email = make_send_email(settings, ledger=MemorySession("sent-email"))
        body = "Oslo right now: -2.5 °C (feels like -6.0 °C), slight snowfall, wind 11.2 km/h."
        model = ScriptedModel(
            [
                reply(tool_calls=[tool_call("get_current_weather", {"location": "Oslo", "unit": "celsius"})]),
                reply(
                    tool_calls=[
                        tool_call(
                            "send_email",
                            {"to": "ada@example.com", "subject": "Weather in Oslo", "body": body},
                        )
                    ]
                ),
                reply("I sent Ada the weather in Oslo: -2.5 °C with light snow."),
            ]
        )
        with model.install():
            result = await run(Agent(tools=[weather, email]), MemorySession("weather-email"))
        model.assert_complete()
    finally:
        smtp.stop()
    for raw in received:
        message = message_from_string(raw, policy=policy.default)
        headers = "\n".join(f"{name}: {message[name]}" for name in ("From", "To", "Subject"))
        print(f"--- the SMTP server received ---\n{headers}\n\n{message.get_content().strip()}")  # type: ignore[attr-defined]
    return result


def main() -> None:
    if os.environ.get("OPENAI_API_KEY"):
        result = asyncio.run(live())
    else:
        print(
            "No OPENAI_API_KEY: replaying canned replies from agentkit's scripted model (no network). "
            "To run it live: OPENAI_API_KEY=sk-... python examples/weather_email.py"
        )
        result = asyncio.run(offline())
    for message in result.messages:
        if message.get("role") == "tool":
            content = message["content"]
            print(
                "tool result:",
                json.dumps(json.loads(content), ensure_ascii=False) if content[:1] == "{" else content,
            )
    print(result.output)


if __name__ == "__main__":
    main()

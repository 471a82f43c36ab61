"""``tools/weather.py`` against a loopback stand-in for Open-Meteo, driven through an agent.

Open-Meteo is unreachable from the test machines (and tests reach 127.0.0.1 only), so the
fixture below is a small HTTP server on 127.0.0.1 that answers in Open-Meteo's documented
response formats (https://open-meteo.com/en/docs/geocoding-api and https://open-meteo.com/en/docs,
read 2026-11): ``results`` left out when nothing matches, ``{"error": true, "reason": ...}``
with HTTP 400 for a bad request, ``current`` and ``current_units`` for the forecast.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from agentkit import Agent, ToolRetry
from agentkit.testing import ScriptedModel, reply, tool_call
from tools.weather import WeatherServiceError, make_get_current_weather

PLACES = [
    {"id": 2988507, "name": "Paris", "latitude": 48.85341, "longitude": 2.3488, "elevation": 42.0,
     "feature_code": "PPLC", "country_code": "FR", "timezone": "Europe/Paris", "population": 2138551,
     "country": "France", "admin1": "Île-de-France"},
    {"id": 4717560, "name": "Paris", "latitude": 33.66094, "longitude": -95.55551, "elevation": 183.0,
     "feature_code": "PPLA2", "country_code": "US", "timezone": "America/Chicago", "population": 24782,
     "country": "United States", "admin1": "Texas", "admin2": "Lamar"},
]  # fmt: skip


class OpenMeteo(BaseHTTPRequestHandler):
    """Geocoding at /v1/search, forecast at /v1/forecast, as Open-Meteo documents them."""

    requests: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        OpenMeteo.requests.append((url.path, query))
        if url.path == "/v1/search":
            self.search(query)
        elif url.path == "/v1/forecast":
            self.forecast(query)
        else:
            self.send_json(404, {"error": True, "reason": "Not Found"})

    def search(self, query: dict[str, str]) -> None:
        if query["name"] == "Slowtown":
            time.sleep(1.0)
        if query["name"] == "Brokenville":
            self.send_json(500, {"error": True, "reason": "Internal Server Error"})
            return
        found = [p for p in PLACES if p["name"].lower() == query["name"].lower()][: int(query["count"])]
        body: dict[str, Any] = {"generationtime_ms": 0.5}
        if found:  # Open-Meteo leaves "results" out when nothing matches.
            body["results"] = found
        self.send_json(200, body)

    def forecast(self, query: dict[str, str]) -> None:
        if query.get("temperature_unit") not in ("celsius", "fahrenheit"):
            self.send_json(400, {"error": True, "reason": "Invalid temperature_unit"})
            return
        fahrenheit = query["temperature_unit"] == "fahrenheit"
        self.send_json(
            200,
            {
                "latitude": float(query["latitude"]),
                "longitude": float(query["longitude"]),
                "generationtime_ms": 0.1,
                "utc_offset_seconds": 3600,
                "timezone": "Europe/Paris",
                "timezone_abbreviation": "GMT+1",
                "elevation": 43.0,
                "current_units": {
                    "time": "iso8601",
                    "interval": "seconds",
                    "temperature_2m": "°F" if fahrenheit else "°C",
                    "apparent_temperature": "°F" if fahrenheit else "°C",
                    "relative_humidity_2m": "%",
                    "weather_code": "wmo code",
                    "wind_speed_10m": "mp/h" if fahrenheit else "km/h",
                },
                "current": {
                    "time": "2026-11-29T16:00",
                    "interval": 900,
                    "temperature_2m": 46.4 if fahrenheit else 8.0,
                    "apparent_temperature": 42.8 if fahrenheit else 6.0,
                    "relative_humidity_2m": 81,
                    "weather_code": 61,
                    "wind_speed_10m": 9.3 if fahrenheit else 15.0,
                },
            },
        )

    def send_json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # The client gave up first (the timeout test).
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def open_meteo() -> Iterator[str]:
    OpenMeteo.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), OpenMeteo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def weather_tool(base: str, timeout: float = 5.0) -> Any:
    return make_get_current_weather(
        geocoding_url=f"{base}/search", forecast_url=f"{base}/forecast", timeout=timeout
    )


async def test_two_cities_through_an_agent(open_meteo: str) -> None:
    model = ScriptedModel(
        [
            reply(
                tool_calls=[
                    tool_call("get_current_weather", {"location": "Paris, France", "unit": "celsius"}),
                    tool_call("get_current_weather", {"location": "Paris, TX", "unit": "fahrenheit"}),
                ]
            ),
            reply("8 °C and light rain in Paris, 46 °F in Paris, Texas."),
        ]
    )
    with model.install():
        result = await Agent(tools=[weather_tool(open_meteo)]).run("Weather in both Parises?")
    france, texas = (json.loads(m["content"]) for m in result.messages if m["role"] == "tool")
    assert france == {
        "location": "Paris, Île-de-France, France",
        "temperature": 8.0,
        "feels_like": 6.0,
        "unit": "°C",
        "conditions": "slight rain",
        "humidity_percent": 81,
        "wind_speed": "15.0 km/h",
        "observed_at": "2026-11-29T16:00 (Europe/Paris)",
    }
    assert texas["location"] == "Paris, Texas, United States" and texas["unit"] == "°F"
    forecasts = {q["latitude"]: q for path, q in OpenMeteo.requests if path == "/v1/forecast"}
    assert forecasts["33.66094"]["wind_speed_unit"] == "mph"
    assert forecasts["48.85341"]["temperature_unit"] == "celsius"
    assert model.requests[0]["tools"][0]["function"]["strict"] is True


async def test_unknown_place_is_a_retry_for_the_model(open_meteo: str) -> None:
    tool = weather_tool(open_meteo)
    with pytest.raises(ToolRetry, match="No place called 'Atlantis' was found"):
        await tool("Atlantis")
    with pytest.raises(ToolRetry, match="location is empty"):
        await tool(" , France")
    # A qualifier that matches nothing falls back to the best match rather than failing.
    assert (await tool("Paris, Narnia"))["location"] == "Paris, Île-de-France, France"


async def test_service_failures_and_timeouts_name_the_service(open_meteo: str) -> None:
    with pytest.raises(WeatherServiceError, match="geocoding service answered HTTP 500: Internal"):
        await weather_tool(open_meteo)("Brokenville")
    with pytest.raises(WeatherServiceError, match="geocoding service did not answer in time"):
        await weather_tool(open_meteo, timeout=0.2)("Slowtown")
    with pytest.raises(WeatherServiceError, match="forecast service answered HTTP 400: Invalid"):
        await weather_tool(open_meteo)("Paris", "kelvin")  # type: ignore[arg-type]  # bypasses validation
    with pytest.raises(WeatherServiceError, match="cannot be reached"):
        await weather_tool("http://127.0.0.1:9/v1")("Paris")


async def test_the_agent_reads_failures_as_tool_results(open_meteo: str) -> None:
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("get_current_weather", {"location": "Atlantis"})]),
            reply(tool_calls=[tool_call("get_current_weather", {"location": "Brokenville"})]),
            reply("Sorry, the weather service is down."),
        ]
    )
    with model.install():
        result = await Agent(tools=[weather_tool(open_meteo)]).run("Weather in Atlantis?")
    unknown, broken = (m["content"] for m in result.messages if m["role"] == "tool")
    assert unknown.startswith("No place called 'Atlantis' was found.")
    assert broken == (
        "Error: WeatherServiceError: the Open-Meteo geocoding service answered HTTP 500: "
        "Internal Server Error"
    )

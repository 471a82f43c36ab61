"""``get_current_weather(location, unit)``: the current weather anywhere, from Open-Meteo.

    from tools.weather import get_current_weather, make_get_current_weather

    agent = Agent(tools=[get_current_weather])                    # open-meteo.com, 10 s
    agent = Agent(tools=[make_get_current_weather(timeout=3)])

Open-Meteo (https://open-meteo.com) needs no API key. The tool asks its geocoding API for the
place, then its forecast API for the current conditions at the best match. A place that is not
found reaches the model as a ``ToolRetry`` it can act on (ask the user, or add a country); the
service failing or not answering in time is an error result naming the service.

Response formats as documented at https://open-meteo.com/en/docs and
https://open-meteo.com/en/docs/geocoding-api (read 2026-11).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Literal

import httpx2

from agentkit import Tool, ToolRetry, tool

__all__ = ["WeatherServiceError", "get_current_weather", "make_get_current_weather"]

GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1/search"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
_CURRENT = "temperature_2m,apparent_temperature,relative_humidity_2m,weather_code,wind_speed_10m"

WMO_CODES = {
    0: "clear sky", 1: "mainly clear", 2: "partly cloudy", 3: "overcast", 45: "fog",
    48: "depositing rime fog", 51: "light drizzle", 53: "moderate drizzle", 55: "dense drizzle",
    56: "light freezing drizzle", 57: "dense freezing drizzle", 61: "slight rain", 63: "moderate rain",
    65: "heavy rain", 66: "light freezing rain", 67: "heavy freezing rain", 71: "slight snowfall",
    73: "moderate snowfall", 75: "heavy snowfall", 77: "snow grains", 80: "slight rain showers",
    81: "moderate rain showers", 82: "violent rain showers", 85: "slight snow showers",
    86: "heavy snow showers", 95: "thunderstorm", 96: "thunderstorm with slight hail",
    99: "thunderstorm with heavy hail",
}  # fmt: skip
"""WMO weather interpretation codes (WMO 4677) as Open-Meteo documents them."""

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "DC": "District of Columbia",
}  # fmt: skip
"""US state codes, so "San Francisco, CA" finds California (the geocoder returns full names)."""

Unit = Literal["celsius", "fahrenheit"]


class WeatherServiceError(RuntimeError):
    """The weather service failed, answered something unreadable, or did not answer in time."""


def make_get_current_weather(
    *,
    geocoding_url: str = GEOCODING_URL,
    forecast_url: str = FORECAST_URL,
    timeout: float = 10.0,
    language: str = "en",
    transport: httpx2.AsyncBaseTransport | None = None,
) -> Tool[[str, Unit], Coroutine[Any, Any, dict[str, Any]]]:
    """Build a ``get_current_weather`` tool.

    Args:
        geocoding_url: Open-Meteo's geocoding search endpoint (or a compatible one).
        forecast_url: Open-Meteo's forecast endpoint (or a compatible one).
        timeout: Seconds for each of the two requests (connect and read).
        language: Language of place names in the answer.
        transport: An httpx2 transport to send the requests through (a proxy, or a stand-in).
    """

    @tool(name="get_current_weather")
    async def get_current_weather(location: str, unit: Unit = "celsius") -> dict[str, Any]:
        """Get the current weather in a given location.

        Args:
            location: The city and state or country, e.g. San Francisco, CA or Paris, France.
            unit: The temperature unit to use.
        """
        async with httpx2.AsyncClient(timeout=timeout, transport=transport) as client:
            place = await _geocode(client, geocoding_url, location, language)
            params = {
                "latitude": place["latitude"],
                "longitude": place["longitude"],
                "current": _CURRENT,
                "temperature_unit": unit,
                "wind_speed_unit": "mph" if unit == "fahrenheit" else "kmh",
                "timezone": "auto",
            }
            data = await _get_json(client, forecast_url, params, "forecast")
        return _report(place, data)

    return get_current_weather


async def _get_json(
    client: httpx2.AsyncClient, url: str, params: dict[str, Any], what: str
) -> dict[str, Any]:
    try:
        response = await client.get(url, params=params)
    except httpx2.TimeoutException:
        raise WeatherServiceError(f"the Open-Meteo {what} service did not answer in time") from None
    except httpx2.HTTPError as exc:
        raise WeatherServiceError(f"the Open-Meteo {what} service cannot be reached: {exc}") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200 or not isinstance(data, dict):
        reason = data.get("reason") if isinstance(data, dict) else response.text[:200]
        raise WeatherServiceError(
            f"the Open-Meteo {what} service answered HTTP {response.status_code}: {reason}"
        )
    return data


async def _geocode(client: httpx2.AsyncClient, url: str, location: str, language: str) -> dict[str, Any]:
    name, _, qualifier = (part.strip() for part in location.partition(","))
    if not name:
        raise ToolRetry("The location is empty; give a place name such as 'Paris, France'.")
    # The search matches place names only, so "Paris, France" searches "Paris" and then prefers
    # the results whose region, country or country code matches "France".
    data = await _get_json(client, url, {"name": name, "count": 10, "language": language}, "geocoding")
    results = [r for r in data.get("results") or () if "latitude" in r and "longitude" in r]
    if qualifier:
        wanted = US_STATES.get(qualifier.upper(), qualifier).lower()
        matching = [r for r in results if wanted in _qualifiers(r)]
        results = matching or results
    if not results:
        raise ToolRetry(
            f"No place called {location!r} was found. Check the spelling, or give a nearby city and its "
            "country (e.g. 'Springfield, Illinois')."
        )
    return dict(results[0])


def _qualifiers(result: dict[str, Any]) -> set[str]:
    keys = ("admin1", "admin2", "country", "country_code")
    return {str(result[k]).lower() for k in keys if result.get(k)}


def _report(place: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    current, units = data.get("current"), data.get("current_units") or {}
    if not isinstance(current, dict) or "temperature_2m" not in current:
        raise WeatherServiceError("the Open-Meteo forecast service answered without current conditions")
    code = current.get("weather_code")
    where = ", ".join(str(place[k]) for k in ("name", "admin1", "country") if place.get(k))
    return {
        "location": where,
        "temperature": current["temperature_2m"],
        "feels_like": current.get("apparent_temperature"),
        "unit": units.get("temperature_2m", ""),
        "conditions": WMO_CODES.get(code, f"WMO weather code {code}") if code is not None else None,
        "humidity_percent": current.get("relative_humidity_2m"),
        "wind_speed": f"{current.get('wind_speed_10m')} {units.get('wind_speed_10m', '')}".strip(),
        "observed_at": f"{current.get('time')} ({data.get('timezone', 'local time')})",
    }


get_current_weather = make_get_current_weather()
"""The tool with Open-Meteo's public endpoints and a 10 s timeout per request."""

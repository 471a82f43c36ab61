"""The README's first agent: one tool, two cities, the model calls it twice in parallel.

    OPENAI_API_KEY=sk-... python examples/weather.py    # live, against the API
    python examples/weather.py                          # offline: replays cassettes/weather.yaml

Replaying needs the testing extra (``pip install 'agentkit-openai[testing]'``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from agentkit import Agent, RunResult, tool

CASSETTE = Path(__file__).parent / "cassettes" / "weather.yaml"
QUESTION = "What's the weather in Paris and in Tokyo?"


@tool
def get_current_weather(location: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA.
        unit: The temperature unit to use.
    """
    return f"22 degrees {unit} and sunny in {location}"


agent = Agent(model="gpt-4o-mini", instructions="You are a helpful assistant.", tools=[get_current_weather])


def main() -> None:
    if os.environ.get("OPENAI_API_KEY"):
        result: RunResult[str] = agent.run_sync(QUESTION)
    else:
        from agentkit.testing import cassette

        print(
            f"No OPENAI_API_KEY: replaying the recorded cassette {CASSETTE.name} "
            "(no network). To run it live: OPENAI_API_KEY=sk-... python examples/weather.py"
        )
        # Replay only: agents get a client with a dummy key, and every request must match the
        # recording, so nothing can leave the process.
        with cassette(CASSETTE, record="none"):
            result = agent.run_sync(QUESTION)
    for message in result.new_messages:
        for call in message.get("tool_calls") or ():
            print(f"tool call: {call['function']['name']}({call['function']['arguments']})")
    print(result.output)


if __name__ == "__main__":
    main()

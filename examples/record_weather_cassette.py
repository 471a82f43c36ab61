"""Regenerate ``cassettes/weather.yaml``, the recording that ``weather.py`` replays offline.

By default the replies come from agentkit's scripted model (the cassette's header says so):
the weather agent runs for real, tools included, against a model that answers from the script
below. With ``--live`` and ``OPENAI_API_KEY`` set, the real API answers instead.

    python examples/record_weather_cassette.py           # scripted model, no key needed
    OPENAI_API_KEY=sk-... python examples/record_weather_cassette.py --live
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from weather import CASSETTE, QUESTION, agent

from agentkit.testing import ScriptedModel, cassette, reply, tool_call

SCRIPT = [
    # Both calls in one reply, as gpt-4o-mini does it: the agent runs them in parallel.
    reply(
        tool_calls=[
            tool_call("get_current_weather", {"location": "Paris, France", "unit": "celsius"}),
            tool_call("get_current_weather", {"location": "Tokyo, Japan", "unit": "celsius"}),
        ],
        usage=(82, 58),
    ),
    reply(
        "The weather in Paris, France is 22°C and sunny, and in Tokyo, Japan it is also 22°C and sunny.",
        usage=(172, 27),
    ),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", action="store_true", help="record the real API (needs OPENAI_API_KEY)")
    parser.add_argument("--out", type=Path, default=CASSETTE, help=f"where to write (default {CASSETTE})")
    args = parser.parse_args()
    if args.live and not os.environ.get("OPENAI_API_KEY"):
        parser.error("--live needs OPENAI_API_KEY.")
    with cassette(args.out, record="all"):
        if args.live:
            result = agent.run_sync(QUESTION)
        else:
            model = ScriptedModel(SCRIPT)
            with model.install():
                result = agent.run_sync(QUESTION)
            model.assert_complete()
    print(f"Wrote {args.out} ({'live API' if args.live else 'scripted model'}): {result.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Streaming: print the answer as it arrives, and every tool call as it starts and finishes.

``Agent.run_stream`` yields typed events: ``TextDelta``, ``ToolCallStarted`` (with the parsed
arguments), ``ToolCallResult``, ``TurnFinished`` (with usage) and, last, ``FinalResult``.

    OPENAI_API_KEY=sk-... python examples/streaming.py    # live, against the API
    python examples/streaming.py                          # offline: agentkit's scripted model
"""

from __future__ import annotations

import asyncio
import os

from agentkit import Agent, tool
from agentkit.events import FinalResult, TextDelta, ToolCallResult, ToolCallStarted, TurnFinished


@tool
async def get_population(city: str) -> int:
    """Get a city's population.

    Args:
        city: The city name.
    """
    return {"Paris": 2_102_650, "Tokyo": 14_094_034}.get(city, 0)


agent = Agent(model="gpt-4o-mini", instructions="Answer briefly.", tools=[get_population])
QUESTION = "Which has more people, Paris or Tokyo?"


async def stream() -> None:
    async for event in agent.run_stream(QUESTION):
        if isinstance(event, ToolCallStarted):
            print(f"-> {event.name}({event.arguments})")
        elif isinstance(event, ToolCallResult):
            print(f"<- {event.name}: {event.content}")
        elif isinstance(event, TextDelta):
            print(event.text, end="", flush=True)
        elif isinstance(event, TurnFinished):
            if event.turn > 1:
                print()
            print(f"[turn {event.turn}: {event.total_usage.total_tokens} tokens so far]")
        elif isinstance(event, FinalResult):
            print(f"final: {event.result.output}")


def main() -> None:
    if os.environ.get("OPENAI_API_KEY"):
        asyncio.run(stream())
        return
    from agentkit.testing import ScriptedModel, reply, tool_call

    print(
        "No OPENAI_API_KEY: replaying canned replies from agentkit's scripted model (no network), "
        "streamed as server-sent events. To run it live: OPENAI_API_KEY=sk-... python examples/streaming.py"
    )
    model = ScriptedModel(
        [
            reply(
                tool_calls=[
                    tool_call("get_population", {"city": "Paris"}),
                    tool_call("get_population", {"city": "Tokyo"}),
                ],
                usage=(61, 40),
            ),
            reply(
                "Tokyo has far more people: about 14.1 million against 2.1 million in Paris.", usage=(130, 20)
            ),
        ]
    )
    with model.install():
        asyncio.run(stream())
    model.assert_complete()
    assert all(request.get("stream") for request in model.requests)


if __name__ == "__main__":
    main()

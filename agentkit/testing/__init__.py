"""Test kit: a scripted model, a network guard, cassettes, and a pytest plugin.

Scripted model (no network, no cassette): the replies go through the real ``openai`` SDK::

    model = ScriptedModel([
        reply(tool_calls=[tool_call("get_weather", {"city": "Paris"})]),
        reply("It is sunny in Paris.", usage=(12, 5)),
    ])
    with model.install():                      # every Agent without client= uses it
        result = await agent.run("Weather in Paris?")
    assert model.requests[1]["messages"][-1]["role"] == "tool"
    model.assert_complete()

Cassettes record real traffic once (``pytest --agentkit-record=once`` with ``OPENAI_API_KEY``)
and replay it offline, matching each request on its canonical JSON body::

    async def test_weather(agent_cassette):    # tests/cassettes/<module>/<test>.yaml
        result = await agent.run("Weather in Paris?")
        assert "Paris" in result.output

Whole-run replay, two modes:

- Without running side-effecting tools; every call gets its recorded result::

      with agent_cassette.recorded_tools(agent):
          result = await agent.run("Refund order 42")   # refund() never runs

- Running the tools, and checking the trajectory (names, arguments, order)::

      result = await agent.run("Refund order 42")
      agent_cassette.assert_trajectory(result.messages)

Cassettes record model traffic only (requests an ``openai`` SDK client sent); everything else
passes through, and ``record_hosts=[...]`` adds hosts.

The pytest plugin (registered through the ``pytest11`` entry point, inert without the
``testing`` extra) guards the network in every test: by default (``agentkit_network = model``)
a model request that no cassette or scripted model answers fails unless its base URL is on
loopback; ``loopback`` blocks everything but loopback; ``off`` nothing
(``@pytest.mark.allow_network`` for one test). ``agentkit replay CASSETTE`` prints a cassette
as a transcript. See docs/testing.md.
"""

from __future__ import annotations

from ._cassette import Cassette, RecordMode, cassette
from ._guard import allow_network, block_network
from ._scripted import (
    APIErrorReply,
    Reply,
    ScriptedModel,
    ScriptedRequest,
    ToolCallReply,
    api_error,
    reply,
    tool_call,
)

__all__ = [
    "APIErrorReply",
    "Cassette",
    "RecordMode",
    "Reply",
    "ScriptedModel",
    "ScriptedRequest",
    "ToolCallReply",
    "allow_network",
    "api_error",
    "block_network",
    "cassette",
    "reply",
    "tool_call",
]

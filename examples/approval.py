"""A human in the loop: the agent may look up the weather freely, but sending e-mail needs a yes.

``send_email`` is declared with ``@tool(requires_approval=True)``. When the model calls it, the
run pauses: ``result.pending_tool_calls`` lists the call (and the weather call of the same turn
has already run). Nothing is sent until the run is resumed with ``decisions=[call.approve()]``;
``call.deny(reason)`` would tell the model why instead. A decision is bound to the exact
arguments the human saw.

    OPENAI_API_KEY=sk-... python examples/approval.py    # live; you approve at the prompt
    python examples/approval.py                          # offline: agentkit's scripted model
"""

from __future__ import annotations

import os
import sys

from agentkit import Agent, PendingToolCall, RunResult, ToolDecision, tool

OUTBOX: list[dict[str, str]] = []
"""Stands in for a mail server: what was "sent"."""


@tool
def get_weather(city: str) -> str:
    """Get the current weather.

    Args:
        city: The city, e.g. "Paris".
    """
    return f"22°C and sunny in {city}"


@tool(requires_approval=True)
def send_email(to: str, subject: str, body: str) -> str:
    """Send an e-mail.

    Args:
        to: The recipient's address.
        subject: The subject line.
        body: The plain-text body.
    """
    OUTBOX.append({"to": to, "subject": subject, "body": body})
    return f"sent to {to}"


agent = Agent(
    model="gpt-4o-mini",
    instructions="You help with the weather and send e-mails. Addresses at example.com are colleagues.",
    tools=[get_weather, send_email],
)
REQUEST = "Look up the weather in Paris and e-mail it to ada@example.com."


def decide(call: PendingToolCall) -> ToolDecision:
    """Ask at the terminal when there is one; otherwise approve (the offline demo)."""
    print(f"approval needed: {call.name}({call.arguments})")
    if not sys.stdin.isatty():
        print("approved (no terminal to ask at)")
        return call.approve()
    answer = input("Send it? [y/N] ").strip().lower()
    return call.approve() if answer == "y" else call.deny("The user declined to send this e-mail.")


def run_with_approvals() -> RunResult[str]:
    result = agent.run_sync(REQUEST)
    while result.pending_tool_calls:
        print(f"paused; sent so far: {OUTBOX}")
        decisions = [decide(call) for call in result.pending_tool_calls]
        result = agent.run_sync(messages=result.messages, decisions=decisions)
    return result


def main() -> None:
    if os.environ.get("OPENAI_API_KEY"):
        result = run_with_approvals()
    else:
        from agentkit.testing import ScriptedModel, reply, tool_call

        print(
            "No OPENAI_API_KEY: replaying canned replies from agentkit's scripted model (no network). "
            "To run it live: OPENAI_API_KEY=sk-... python examples/approval.py"
        )
        email = {
            "to": "ada@example.com",
            "subject": "Paris weather",
            "body": "It is 22°C and sunny in Paris.",
        }
        model = ScriptedModel(
            [
                reply(tool_calls=[tool_call("get_weather", {"city": "Paris"})]),
                reply(tool_calls=[tool_call("send_email", email)]),
                reply("Sent: I told ada@example.com it is 22°C and sunny in Paris."),
            ]
        )
        with model.install():
            result = run_with_approvals()
        model.assert_complete()
    print(f"outbox: {OUTBOX}")
    print(result.output)


if __name__ == "__main__":
    main()

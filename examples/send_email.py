"""A side-effecting tool: ``send_email``, async, with options on the decorator.

The model drafts and sends an e-mail through an ``async def`` tool declared with
``@tool(name="send_mail", strict=False)``. A bad recipient is reported back to the model as that
call's result (the tool raises ``ToolRetry``), and the model corrects itself.

    OPENAI_API_KEY=sk-... python examples/send_email.py    # live (the "mail server" is a list)
    python examples/send_email.py                          # offline: agentkit's scripted model
"""

from __future__ import annotations

import asyncio
import os

from agentkit import Agent, RunResult, ToolRetry, tool

OUTBOX: list[dict[str, str]] = []
"""Stands in for a mail server: what was "sent"."""


@tool(name="send_mail", description="Send an e-mail to one recipient.", strict=False)
async def send_email(to: str, body: str, subject: str = "(no subject)") -> dict[str, str]:
    """Send an e-mail.

    Args:
        to: The recipient's address, e.g. ada@example.com.
        body: The plain-text body.
        subject: The subject line.
    """
    if "@" not in to:
        raise ToolRetry(f"{to!r} is not an e-mail address; ask for or infer a full address.")
    await asyncio.sleep(0)  # a real implementation awaits its mail API here
    OUTBOX.append({"to": to, "subject": subject, "body": body})
    return {"status": "sent", "id": f"msg-{len(OUTBOX)}"}


agent = Agent(
    model="gpt-4o-mini",
    instructions="You send e-mails for the user. Addresses at example.com are colleagues.",
    tools=[send_email],
)
REQUEST = "Tell ada that the release moved to Friday."


def main() -> None:
    if os.environ.get("OPENAI_API_KEY"):
        result: RunResult[str] = agent.run_sync(REQUEST)
    else:
        from agentkit.testing import ScriptedModel, reply, tool_call

        print(
            "No OPENAI_API_KEY: replaying canned replies from agentkit's scripted model (no network). "
            "To run it live: OPENAI_API_KEY=sk-... python examples/send_email.py"
        )
        model = ScriptedModel(
            [
                reply(
                    tool_calls=[tool_call("send_mail", {"to": "ada", "body": "The release moved to Friday."})]
                ),
                reply(
                    tool_calls=[
                        tool_call(
                            "send_mail",
                            {
                                "to": "ada@example.com",
                                "subject": "Release date",
                                "body": "Hi Ada, the release moved to Friday.",
                            },
                        )
                    ]
                ),
                reply("Done: I e-mailed ada@example.com that the release moved to Friday."),
            ]
        )
        with model.install():
            result = agent.run_sync(REQUEST)
        model.assert_complete()
    for message in result.messages:
        if message.get("role") == "tool":
            print(f"tool result: {message['content']}")
    print(f"outbox: {OUTBOX}")
    print(result.output)


if __name__ == "__main__":
    main()

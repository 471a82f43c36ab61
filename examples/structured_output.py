"""Structured output: the final answer is a validated pydantic object, not text.

``output_type=`` sends the model's JSON schema as a strict ``response_format``; the reply is
parsed and validated into the class (one retry with the validation error if it does not fit).

    OPENAI_API_KEY=sk-... python examples/structured_output.py    # live, against the API
    python examples/structured_output.py                          # offline: agentkit's scripted model
"""

from __future__ import annotations

import json
import os
from typing import Literal

from pydantic import BaseModel, Field

from agentkit import Agent, RunResult


class Ticket(BaseModel):
    """A support e-mail, triaged."""

    category: Literal["billing", "shipping", "bug", "other"]
    urgency: int = Field(description="1 (can wait) to 5 (drop everything).")
    summary: str = Field(description="One sentence.")
    order_ids: list[str]


agent: Agent[None, Ticket] = Agent(
    model="gpt-4o-mini",
    instructions="Triage the customer's e-mail.",
    output_type=Ticket,
)

EMAIL = (
    "Hello, I was charged twice for order A-1042 and once more for A-1043, which I never "
    "placed. Please fix this before my rent is due on Friday!"
)


def main() -> None:
    if os.environ.get("OPENAI_API_KEY"):
        result: RunResult[Ticket] = agent.run_sync(EMAIL)
    else:
        from agentkit.testing import ScriptedModel, reply

        print(
            "No OPENAI_API_KEY: replaying a canned reply from agentkit's scripted model (no network). "
            "To run it live: OPENAI_API_KEY=sk-... python examples/structured_output.py"
        )
        canned = {
            "category": "billing",
            "urgency": 4,
            "summary": "The customer was charged twice for A-1042 and also for A-1043, never placed.",
            "order_ids": ["A-1042", "A-1043"],
        }
        model = ScriptedModel([reply(json.dumps(canned), usage=(140, 52))])
        with model.install():
            result = agent.run_sync(EMAIL)
        # The request really carried the schema, as it would to the API.
        assert model.requests[0]["response_format"]["json_schema"]["name"] == "Ticket"
    ticket = result.output
    print(f"category: {ticket.category}, urgency {ticket.urgency}/5, orders {', '.join(ticket.order_ids)}")
    print(f"summary: {ticket.summary}")


if __name__ == "__main__":
    main()

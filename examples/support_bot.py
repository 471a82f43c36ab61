"""A customer-support agent: tools with dependencies, a retry signal, a saved thread, streaming.

- The tools get the shop's data through ``RunContext.deps`` instead of globals.
- ``lookup_order`` raises ``ToolRetry`` on a malformed order id: the model reads why and retries.
- The conversation is a ``SQLiteSession``: the second question is answered from the saved thread.
- ``run_stream`` prints the answer as it arrives, and each tool call as it runs.

    OPENAI_API_KEY=sk-... python examples/support_bot.py    # live, against the API
    python examples/support_bot.py                          # offline: replays cassettes/support_bot.yaml
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit import Agent, RunContext, ToolRetry, tool
from agentkit.events import TextDelta, ToolCallResult, ToolCallStarted
from agentkit.sessions import SQLiteSession

CASSETTE = Path(__file__).parent / "cassettes" / "support_bot.yaml"
QUESTIONS = [
    "Hi, my order 1042 arrived broken. Can I get a refund?",
    "Thanks! Which item was that again?",
]


@dataclass
class Shop:
    """What the tools work on; a real bot would hold a database handle here."""

    orders: dict[str, dict[str, Any]]
    """Orders by id."""
    refunds: list[str] = field(default_factory=list)
    """Ids of the orders refunded during this process."""


@tool
def lookup_order(ctx: RunContext[Shop], order_id: str) -> dict[str, Any]:
    """Look up an order.

    Args:
        order_id: The order id, like A-1234.
    """
    if not re.fullmatch(r"A-\d{4}", order_id):
        raise ToolRetry(f"{order_id!r} is not an order id: they look like 'A-1234'.")
    order = ctx.deps.orders.get(order_id)
    if order is None:
        raise ToolRetry(f"There is no order {order_id}; ask the customer to check the id.")
    return {"order_id": order_id, **order}


@tool
def refund_order(ctx: RunContext[Shop], order_id: str, reason: str) -> str:
    """Refund an order in full to the customer's original payment method.

    Args:
        order_id: The order id, like A-1234.
        reason: Why the customer wants a refund, in a few words.
    """
    order = ctx.deps.orders[order_id]
    ctx.deps.refunds.append(order_id)
    return f"Refunded ${order['total']:.2f} for {order_id} ({reason})."


agent: Agent[Shop, str] = Agent(
    model="gpt-4o-mini",
    name="support",
    instructions=(
        "You are the support assistant of a small online shop. Look orders up before acting "
        "on them. Refund damaged items without arguing. Be brief and friendly."
    ),
    tools=[lookup_order, refund_order],
)


async def chat(shop: Shop, session: SQLiteSession) -> str:
    """Ask every question on the same thread, printing the events as they stream in."""
    answer = ""
    for question in QUESTIONS:
        print(f"\ncustomer: {question}")
        answer = ""
        async for event in agent.run_stream(question, deps=shop, session=session):
            if isinstance(event, ToolCallStarted):
                print(f"  → {event.name}({event.raw_arguments})")
            elif isinstance(event, ToolCallResult):
                print(f"  {'✗' if event.is_error else '←'} {event.content}")
            elif isinstance(event, TextDelta):
                if not answer:
                    print("assistant: ", end="")
                answer += event.text
                print(event.text, end="", flush=True)
        print()
    return answer


async def main() -> None:
    shop = Shop(orders={"A-1042": {"item": "ceramic teapot", "total": 39.0, "status": "delivered"}})
    with tempfile.TemporaryDirectory() as tmp:
        session = SQLiteSession("customer-42", Path(tmp) / "threads.sqlite3")
        if os.environ.get("OPENAI_API_KEY"):
            await chat(shop, session)
        else:
            from agentkit.testing import cassette

            print(
                f"No OPENAI_API_KEY: replaying the recorded cassette {CASSETTE.name} "
                "(no network). To run it live: OPENAI_API_KEY=sk-... python examples/support_bot.py"
            )
            with cassette(CASSETTE, record="none"):
                await chat(shop, session)
    print(f"\nrefunds issued: {shop.refunds}")


if __name__ == "__main__":
    asyncio.run(main())

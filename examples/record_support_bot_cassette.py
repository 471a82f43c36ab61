"""Regenerate ``cassettes/support_bot.yaml``, the recording that ``support_bot.py`` replays.

The replies come from agentkit's scripted model (the cassette's header says so); the agent, its
tools, the session and streaming all run for real. With ``--live`` and ``OPENAI_API_KEY`` set,
the real API answers instead.

    python examples/record_support_bot_cassette.py
    OPENAI_API_KEY=sk-... python examples/record_support_bot_cassette.py --live
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from support_bot import CASSETTE, Shop, chat

from agentkit.sessions import SQLiteSession
from agentkit.testing import ScriptedModel, cassette, reply, tool_call

SCRIPT = [
    # The customer gave "1042"; the tool answers with a ToolRetry and the model corrects the id.
    reply(tool_calls=[tool_call("lookup_order", {"order_id": "1042"})], usage=(161, 17)),
    reply(tool_calls=[tool_call("lookup_order", {"order_id": "A-1042"})], usage=(210, 18)),
    reply(
        tool_calls=[tool_call("refund_order", {"order_id": "A-1042", "reason": "arrived broken"})],
        usage=(262, 24),
    ),
    reply(
        "I'm sorry your ceramic teapot arrived broken. I've refunded $39.00 for order A-1042 to "
        "your original payment method.",
        usage=(312, 31),
    ),
    reply("That was the ceramic teapot from order A-1042.", usage=(360, 13)),
]


async def record(live: bool, out: Path) -> None:
    shop = Shop(orders={"A-1042": {"item": "ceramic teapot", "total": 39.0, "status": "delivered"}})
    with tempfile.TemporaryDirectory() as tmp:
        session = SQLiteSession("customer-42", Path(tmp) / "threads.sqlite3")
        with cassette(out, record="all"):
            if live:
                await chat(shop, session)
            else:
                model = ScriptedModel(SCRIPT)
                with model.install():
                    await chat(shop, session)
                model.assert_complete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", action="store_true", help="record the real API (needs OPENAI_API_KEY)")
    parser.add_argument("--out", type=Path, default=CASSETTE, help=f"where to write (default {CASSETTE})")
    args = parser.parse_args()
    if args.live and not os.environ.get("OPENAI_API_KEY"):
        parser.error("--live needs OPENAI_API_KEY.")
    asyncio.run(record(args.live, args.out))
    print(f"\nWrote {args.out} ({'live API' if args.live else 'scripted model'}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tools that ``tests/test_mcp_serve.py`` serves with ``agentkit mcp serve``."""

from __future__ import annotations

from agentkit import ToolRetry, tool


@tool
def forecast(city: str, days: int = 1) -> dict[str, object]:
    """Forecast the weather.

    Args:
        city: The city.
        days: How many days ahead.
    """
    return {"city": city, "days": days, "sky": "clear"}


@tool
async def lookup_order(order_id: str) -> str:
    """Look an order up.

    Args:
        order_id: An id such as A-1042.
    """
    if not order_id.startswith("A-"):
        raise ToolRetry(f"{order_id!r} is not an order id; they look like A-1042.")
    return f"order {order_id}: shipped"


TOOLS = [forecast, lookup_order]

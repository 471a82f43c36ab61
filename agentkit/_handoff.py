"""Handoffs: the model transfers the conversation to another agent by calling ``transfer_to_<name>``.

``Agent.as_handoff`` returns the ``transfer_to_<name>`` tool. Its result is a :class:`Handoff`;
the dispatcher turns it into the call's result text and hands it to the loop, which appends the
turn's results and continues the *same* run with the target agent: its instructions, tools,
model and output type, the history so far (or what ``history`` makes of it), the same usage,
deadline and session. ``RunResult.last_agent`` names the agent that answered. When one turn
makes several transfers, the first one wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._tool import Tool, tool

if TYPE_CHECKING:
    from ._agent import Agent
    from ._loop.spec import RunSpec

__all__ = ["Handoff", "HistoryFilter", "handoff_tool"]

HistoryFilter = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
"""Takes the conversation so far (wire-format items) and returns what the next agent sees."""


@dataclass(frozen=True)
class Handoff:
    """What a ``transfer_to_<name>`` tool returns: continue the run with another agent."""

    agent_name: str
    """The target agent's ``name``."""
    spec: RunSpec
    """The target agent's configuration, as the loop uses it."""
    history: HistoryFilter | None
    """Reshapes the history for the target; ``None`` keeps it whole."""

    @property
    def message(self) -> str:
        """The transfer call's result, as both agents read it."""
        return f"Transferred to {self.agent_name}."


def handoff_tool(
    agent: Agent[Any, Any], *, name: str | None, description: str | None, history: HistoryFilter | None
) -> Tool[..., Any]:
    """Build the tool ``Agent.as_handoff`` returns (see there)."""
    target = Handoff(agent.name, agent._spec, history)

    async def transfer() -> Handoff:
        """Transfer the conversation."""
        return target

    summary = f": {agent.instructions}" if agent.instructions else "."
    return tool(
        name=name or f"transfer_to_{agent.name}",
        description=description or f"Hand the conversation over to the {agent.name} agent{summary}",
    )(transfer)

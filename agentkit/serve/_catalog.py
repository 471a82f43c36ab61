"""What the service can run: served agents, and assistants built from registered tools."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import Agent
from ..exceptions import ConfigurationError, ServeError
from ..sessions import ToolRegistry
from ._objects import assistant_from_agent, served_assistant_id, tool_entry
from ._schemas import ToolSpec

if TYPE_CHECKING:
    from openai import AsyncOpenAI

Served = Agent[Any, Any] | Sequence[Agent[Any, Any]] | ToolRegistry


class Catalog:
    """Served agents (as read-only assistants) and the registry that API-created assistants use.

    Args:
        served: An ``Agent``, a list of agents, or a ``ToolRegistry``.
        client: The ``AsyncOpenAI`` client for assistants created over the API; by default the
            first served agent's client, else the environment's (``OPENAI_API_KEY``/``OPENAI_BASE_URL``).
    """

    def __init__(self, served: Served, client: AsyncOpenAI | None = None) -> None:
        if isinstance(served, ToolRegistry):
            agents: list[Agent[Any, Any]] = []
            self.registry = served
        else:
            agents = [served] if isinstance(served, Agent) else list(served)
            if not all(isinstance(a, Agent) for a in agents):
                raise ConfigurationError("create_app() serves an Agent, a list of agents, or a ToolRegistry.")
            self.registry = ToolRegistry()
            for agent in agents:
                for t in agent.tools:
                    try:
                        self.registry.add(t)
                    except ConfigurationError as exc:
                        raise ConfigurationError(
                            f"Two served agents have different tools named {t.name!r}; rename one."
                        ) from exc
        self.agents: dict[str, Agent[Any, Any]] = {}
        for agent in agents:
            aid = served_assistant_id(agent)
            if aid in self.agents:
                raise ConfigurationError(f"Two served agents are named {agent.name!r}.")
            self.agents[aid] = agent
        self.client = client if client is not None else next((a.client for a in agents if a.client), None)
        self.assistants = [assistant_from_agent(a, 0) for a in agents]
        self._built: OrderedDict[tuple[str, str], Agent[Any, Any]] = OrderedDict()

    def check_tools(self, tools: Sequence[ToolSpec], param: str = "tools") -> list[dict[str, Any]]:
        """Return the Assistants tool entries for ``tools``, each a registered tool.

        Raises:
            ServeError: A function is not registered on this server (400).
        """
        out = []
        for i, spec in enumerate(tools):
            assert spec.function is not None or spec.type != "function"
            if spec.function is None:
                raise ServeError("A function tool needs a 'function' object.", param=f"{param}[{i}].function")
            name = spec.function.name
            if name not in self.registry:
                raise ServeError(
                    f"No tool named {name!r} is registered on this server (registered: "
                    f"{', '.join(self.registry.names) or 'none'}). Tools that the client runs need "
                    "human-approval support, which this server version does not have.",
                    param=f"{param}[{i}].function.name",
                    code="unknown_tool",
                )
            (tool,) = self.registry.resolve([name])
            out.append(tool_entry(tool))
        return out

    def agent_for(self, assistant: dict[str, Any], changes: dict[str, Any]) -> Agent[Any, Any]:
        """The agent that runs ``assistant``, with per-run ``changes`` (model, instructions, settings)."""
        served = self.agents.get(assistant["id"])
        if served is not None and not changes:
            return served
        key = (assistant["id"], repr(sorted(assistant.items())) + repr(sorted(changes.items())))
        agent = self._built.get(key)
        if agent is None:
            agent = self._build(assistant, served, changes)
            self._built[key] = agent
            if len(self._built) > 256:
                self._built.popitem(last=False)
        else:
            self._built.move_to_end(key)
        return agent

    def _build(
        self, assistant: dict[str, Any], served: Agent[Any, Any] | None, changes: dict[str, Any]
    ) -> Agent[Any, Any]:
        settings = dict(served.model_settings if served else {})
        for name in ("temperature", "top_p"):
            if assistant.get(name) is not None and served is None:
                settings[name] = assistant[name]
        settings.update(changes.get("model_settings", {}))
        names = [t["function"]["name"] for t in assistant.get("tools", []) if t.get("type") == "function"]
        if "tools" in changes:
            tools = self.registry.resolve(changes["tools"])
        else:
            tools = list(served.tools) if served else self.registry.resolve(names)
        return Agent(
            changes.get("model") or assistant["model"],
            name=served.name if served else "assistant",
            instructions=changes.get("instructions", assistant.get("instructions")),
            tools=tools,
            client=served.client if served else self.client,
            api=served.api if served else "chat",
            max_turns=served.max_turns if served else 20,
            model_settings=settings,
            tool_choice=changes.get("tool_choice", served.tool_choice if served else None),
            parallel_tool_calls=changes.get(
                "parallel_tool_calls", served.parallel_tool_calls if served else None
            ),
            run_timeout=served.run_timeout if served else None,
        )

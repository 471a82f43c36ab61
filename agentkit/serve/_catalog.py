"""What the service can run: served agents, and assistants built from registered tools."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import Agent, Tool, client_tool
from ..exceptions import AgentkitError, ConfigurationError, ServeError
from ..sessions import ToolRegistry
from ._objects import assistant_from_agent, served_assistant_id, tool_entry
from ._schemas import ToolSpec

if TYPE_CHECKING:
    from openai import AsyncOpenAI

Served = Agent[Any, Any] | Sequence[Agent[Any, Any]] | ToolRegistry


class Catalog:
    """Served agents (as read-only assistants) and the registry that API-created assistants use.

    Agents for API-created assistants are clones of a base agent, so that they share its
    client (and its default clients when it has none): the ``client=`` given, else the first
    served agent's, else one built from ``OPENAI_API_KEY``/``OPENAI_BASE_URL``.

    Args:
        served: An ``Agent``, a list of agents, or a ``ToolRegistry``.
        client: The ``AsyncOpenAI`` client for assistants created over the API.
    """

    def __init__(self, served: Served, client: AsyncOpenAI | None = None) -> None:
        if isinstance(served, ToolRegistry):
            agents: list[Agent[Any, Any]] = []
            self.registry = served
        else:
            agents = [served] if isinstance(served, Agent) else list(served)
            if not agents or not all(isinstance(a, Agent) for a in agents):
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
        # The base agent's tools, instructions and settings are all replaced when cloned.
        self._owned: Agent[Any, Any] | None = None
        if client is not None or not agents:
            self._owned = Agent(name="assistant", client=client)
            self.base = self._owned
        else:
            self.base = agents[0].clone(name="assistant", tools=(), instructions=None, model_settings={})
        self.assistants = [assistant_from_agent(a, 0) for a in agents]
        self._built: OrderedDict[tuple[str, str], Agent[Any, Any]] = OrderedDict()

    async def aclose(self) -> None:
        """Close the default clients of the agents this catalog made (never a served agent's)."""
        if self._owned is not None:
            await self._owned.aclose()

    def check_tools(self, tools: Sequence[ToolSpec], param: str = "tools") -> list[dict[str, Any]]:
        """Return the Assistants tool entries for ``tools``.

        A function registered on the server runs there (its registered schema wins); any other
        function is executed by the client: a call to it pauses the run (``requires_action``)
        until ``submit_tool_outputs``.

        Raises:
            ServeError: A function tool has no ``function``, or a client tool's ``parameters``
                are not an object schema (400).
        """
        out = []
        for i, spec in enumerate(tools):
            if spec.function is None:
                raise ServeError("A function tool needs a 'function' object.", param=f"{param}[{i}].function")
            name = spec.function.name
            if name in self.registry:
                (tool,) = self.registry.resolve([name])
                out.append(tool_entry(tool))
                continue
            entry = {
                "type": "function",
                "function": {
                    "name": name,
                    "description": spec.function.description or "",
                    "parameters": spec.function.parameters or {"type": "object", "properties": {}},
                    "strict": False,
                },
            }
            try:
                _client_tool(entry)
            except AgentkitError as exc:
                raise ServeError(str(exc), param=f"{param}[{i}].function.parameters") from exc
            out.append(entry)
        return out

    def tools_for(self, entries: Sequence[dict[str, Any]]) -> list[Tool[..., Any]]:
        """The agent's tools for Assistants tool entries: registered ones, else client-executed."""
        return [
            self.registry.resolve([e["function"]["name"]])[0]
            if e["function"]["name"] in self.registry
            else _client_tool(e)
            for e in entries
            if e.get("type") == "function"
        ]

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
        update: dict[str, Any] = {"model_settings": settings}
        if "tools" in changes:
            update["tools"] = self.tools_for(changes["tools"])
        elif served is None:
            update["tools"] = self.tools_for(assistant.get("tools", []))
        if served is None or "model" in changes:
            update["model"] = changes.get("model") or assistant["model"]
        if served is None or "instructions" in changes:
            update["instructions"] = changes.get("instructions", assistant.get("instructions"))
        for name in ("tool_choice", "parallel_tool_calls"):
            if name in changes:
                update[name] = changes[name]
        return (served or self.base).clone(**update)


def _client_tool(entry: dict[str, Any]) -> Tool[..., Any]:
    function = entry["function"]
    return client_tool(
        function["name"], description=function.get("description") or "", parameters=function["parameters"]
    )

"""Named agent definitions, like the Assistants API's assistant objects.

A definition is data only: name, model, instructions, model settings and tool *names*. Building
an agent from it looks each name up in a ``ToolRegistry`` of ``@tool``-decorated functions that
the application registered; no code is ever imported by name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from .._tool import Tool
from .._wire import MAX_TOOLS
from ..exceptions import ConfigurationError, SessionCorruptError

if TYPE_CHECKING:
    from .._agent import Agent

"""OpenAI accepts at most 128 tools per request."""

ToolT = TypeVar("ToolT", bound=Tool[..., Any])

logger = logging.getLogger("agentkit")


class ToolRegistry:
    """The tools that saved definitions may name, by tool name.

    Args:
        tools: ``@tool``-decorated functions to register.
    """

    def __init__(self, tools: Iterable[Tool[..., Any]] = ()) -> None:
        self._tools: dict[str, Tool[..., Any]] = {}
        for t in tools:
            self.add(t)

    def add(self, tool: ToolT) -> ToolT:
        """Register ``tool`` and return it, so that ``@registry.add`` can sit above ``@tool``.

        Raises:
            ConfigurationError: ``tool`` is not a tool, or another tool has its name.
        """
        if not isinstance(tool, Tool):
            raise ConfigurationError(f"{tool!r} is not a tool: decorate it with @agentkit.tool first.")
        if tool.name in self._tools and self._tools[tool.name] is not tool:
            raise ConfigurationError(f"Two registered tools are named {tool.name!r}.")
        self._tools[tool.name] = tool
        return tool

    @property
    def names(self) -> list[str]:
        """Every registered tool name, sorted."""
        return sorted(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def resolve(self, names: Sequence[str]) -> list[Tool[..., Any]]:
        """Return the tools with these names, in this order.

        Raises:
            ConfigurationError: A name is not registered.
        """
        missing = [n for n in names if n not in self._tools]
        if missing:
            raise ConfigurationError(
                f"Unknown tool name(s) {missing}; registered tools: {self.names}. "
                "Register them with ToolRegistry.add()."
            )
        return [self._tools[n] for n in names]


@dataclass(frozen=True)
class AgentDefinition:
    """Everything needed to rebuild an agent, as JSON-friendly data."""

    name: str
    """The key it is saved under, and the agent's ``name``."""
    model: str
    """The model name, e.g. ``"gpt-4o-mini"``."""
    instructions: str | None = None
    """The system prompt."""
    model_settings: dict[str, Any] = field(default_factory=dict)
    """Extra request parameters, e.g. ``{"temperature": 0}``."""
    tools: tuple[str, ...] = ()
    """Tool names, resolved from a ``ToolRegistry`` when the agent is built."""
    api: Literal["chat", "responses"] = "chat"
    """The wire format (a thread stored in one format cannot be continued in the other)."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigurationError("An agent definition needs a non-empty name.")
        object.__setattr__(self, "tools", tuple(self.tools))
        object.__setattr__(self, "model_settings", _without_credentials(self.model_settings, self.name))
        if len(self.tools) > MAX_TOOLS:
            raise ConfigurationError(
                f"Agent definition {self.name!r} names {len(self.tools)} tools; "
                f"OpenAI accepts at most {MAX_TOOLS}."
            )
        if len(set(self.tools)) != len(self.tools):
            raise ConfigurationError(
                f"Agent definition {self.name!r} names a tool twice: {list(self.tools)}."
            )

    @classmethod
    def from_agent(cls, agent: Agent[Any, Any]) -> AgentDefinition:
        """Describe an existing agent (its tools by name)."""
        return cls(
            name=agent.name,
            model=agent.model,
            instructions=agent.instructions,
            model_settings=dict(agent.model_settings),
            tools=tuple(t.name for t in agent.tools),
            api=agent.api,
        )

    def build(self, registry: ToolRegistry, **options: Any) -> Agent[Any, Any]:
        """Return a new ``Agent``; ``options`` go to its constructor (e.g. ``client=``).

        Raises:
            ConfigurationError: A tool name is not in ``registry``.
        """
        from .._agent import Agent

        return Agent(
            self.model,
            name=self.name,
            instructions=self.instructions,
            tools=registry.resolve(self.tools),
            model_settings=dict(self.model_settings),
            **{"api": self.api, **options},
        )

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "name": self.name,
            "model": self.model,
            "instructions": self.instructions,
            "model_settings": self.model_settings,
            "tools": list(self.tools),
            "api": self.api,
        }

    @classmethod
    def from_json(cls, data: Any, *, where: str) -> AgentDefinition:
        """Parse the stored form.

        Raises:
            SessionCorruptError: ``data`` is not a definition.
        """
        ok = (
            isinstance(data, dict)
            and isinstance(data.get("name"), str)
            and isinstance(data.get("model"), str)
            and isinstance(data.get("instructions"), (str, type(None)))
            and isinstance(data.get("model_settings"), dict)
            and isinstance(data.get("tools"), list)
            and all(isinstance(t, str) for t in data["tools"])
            and data.get("api", "chat") in ("chat", "responses")
        )
        if not ok:
            raise SessionCorruptError(f"{where} is not a valid agent definition: {data!r:.200}")
        return cls(
            name=data["name"],
            model=data["model"],
            instructions=data["instructions"],
            model_settings=data["model_settings"],
            tools=tuple(data["tools"]),
            api=data.get("api", "chat"),
        )


@runtime_checkable
class DefinitionStore(Protocol):
    """Saves named agent definitions; every built-in session class is one."""

    async def save_definition(self, definition: AgentDefinition) -> None:
        """Store ``definition`` under its name, replacing an earlier one."""
        ...

    async def load_definition(self, name: str) -> AgentDefinition:
        """Return the definition saved as ``name``.

        Raises:
            KeyError: No definition has this name.
        """
        ...

    async def list_definitions(self) -> list[str]:
        """Return the names of every saved definition, sorted."""
        ...

    async def delete_definition(self, name: str) -> None:
        """Delete the definition saved as ``name``, if there is one."""
        ...


_SECRET_NAME = re.compile(
    r"(?i)^(authorization|proxy-authorization|cookie|set-cookie|api[-_]?key|x-api-key|key|sig|signature)$"
    r"|token|secret|password|passwd|credential"
)


def _without_credentials(settings: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Drop credentials from ``model_settings`` (headers, query and body keys named like secrets).

    Nothing agentkit persists may hold a credential: keys and tokens belong to the client
    (``AsyncOpenAI(api_key=..., default_headers=...)``), which is never stored.
    """
    cleaned, dropped = _clean(dict(settings), [])
    if dropped:
        logger.warning(
            "agent definition %r: dropped credential settings %s; credentials are never stored, "
            "configure them on the client",
            name,
            ", ".join(dropped),
        )
    return cleaned  # type: ignore[no-any-return]


def _clean(value: Any, dropped: list[str], path: str = "") -> tuple[Any, list[str]]:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            # A secret is a string under a secret's name (``max_tokens: 100`` is not one).
            if isinstance(key, str) and isinstance(item, str) and _SECRET_NAME.search(key):
                dropped.append(where)
                continue
            out[key] = _clean(item, dropped, where)[0]
        return out, dropped
    if isinstance(value, list):
        return [_clean(item, dropped, f"{path}.{i}")[0] for i, item in enumerate(value)], dropped
    return value, dropped

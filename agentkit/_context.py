"""The per-run context handed to tools that ask for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from ._result import Usage

DepsT = TypeVar("DepsT")


@dataclass
class RunContext(Generic[DepsT]):
    """What a tool declaring a first parameter ``ctx: RunContext[Deps]`` receives.

    The parameter is excluded from the tool's JSON schema.
    """

    deps: DepsT
    """The ``deps=`` object passed to ``Agent.run``."""
    run_id: str
    """A unique id of this run."""
    usage: Usage
    """Tokens and requests spent so far in this run."""
    tool_call_id: str = ""
    """The id of the tool call being executed (set per call)."""
    tool_name: str = ""
    """The name of the tool being executed (set per call)."""
    retry: int = 0
    """In how many earlier turns of this run this tool failed."""
    idempotency_key: str = field(default="")
    """A stable key for this tool call, the same when an interrupted call is re-run."""

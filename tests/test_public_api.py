"""The public surface is small and explicit; changing it is a decision, not an accident."""

from __future__ import annotations

import subprocess
import sys

import agentkit
import agentkit.events
import agentkit.exceptions


def test_top_level_all() -> None:
    assert agentkit.__all__ == [
        "Agent",
        "AgentkitError",
        "PendingToolCall",
        "RateLimiter",
        "RunContext",
        "RunResult",
        "Tool",
        "ToolCall",
        "ToolDecision",
        "ToolRetry",
        "Usage",
        "UsageLimits",
        "client_tool",
        "tool",
    ]
    for name in agentkit.__all__:
        assert getattr(agentkit, name) is not None


def test_hooks_and_guardrails_all() -> None:
    import agentkit.guardrails
    import agentkit.hooks

    assert agentkit.hooks.__all__ == ["Hooks", "ModelRequest", "ModelResponse", "Step", "StepRunner"]
    assert agentkit.guardrails.__all__ == ["Guardrail", "GuardrailCheck", "moderation"]


def test_events_all() -> None:
    assert sorted(agentkit.events.__all__) == [
        "FinalResult",
        "RunPaused",
        "StreamEvent",
        "SubAgentEvent",
        "TextDelta",
        "ToolCallResult",
        "ToolCallStarted",
        "TurnFinished",
    ]


def test_every_error_derives_from_one_base() -> None:
    for name in agentkit.exceptions.__all__:
        obj = getattr(agentkit.exceptions, name)
        if name in ("ToolRetry", "FieldError", "MissingDescriptionWarning"):
            continue
        assert issubclass(obj, agentkit.exceptions.AgentkitError), name
        # The module docstring draws the tree: every error is in it.
        assert name in (agentkit.exceptions.__doc__ or ""), name


def test_import_does_not_load_optional_parts() -> None:
    code = (
        "import sys, agentkit; "
        "print(sorted(m for m in ('vcr', 'psycopg', 'redis', 'jsonschema', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

"""Input and output guardrails (``Agent(input_guardrails=..., output_guardrails=...)``), and
OpenAI's moderation endpoint as one."""

from ._guardrail import Guardrail, GuardrailCheck, moderation

__all__ = ["Guardrail", "GuardrailCheck", "moderation"]

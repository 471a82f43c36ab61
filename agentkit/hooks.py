"""Lifecycle hooks and the step seam (``Agent(hooks=..., step_runner=...)``); see ``Hooks``."""

from ._hooks import Hooks, ModelRequest, ModelResponse, Step, StepRunner

__all__ = ["Hooks", "ModelRequest", "ModelResponse", "Step", "StepRunner"]

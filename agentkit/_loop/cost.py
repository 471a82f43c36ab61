"""What each reply cost, from the model table, with one table look-up per model per run."""

from __future__ import annotations

from .._result import Usage
from ..models import ModelInfo, cost_usd, model_info


class Pricer:
    """Prices replies for one run; a model registered later applies from the next run."""

    def __init__(self) -> None:
        self._infos: dict[str, ModelInfo | None] = {}

    def info(self, model: str) -> ModelInfo | None:
        """The table's entry for ``model`` (snapshot and ``ft:`` names resolved), or ``None``."""
        try:
            return self._infos[model]
        except KeyError:
            info = self._infos[model] = model_info(model, default=None)
            return info

    def price(self, model: str, usage: Usage) -> None:
        """Set ``usage.cost_usd`` for one request to ``model``; ``None`` when no price is known.

        Cached input tokens are priced at the cached-input price. A server that reports more cached
        than input tokens is trusted for the input total only (the excess is not discounted).
        """
        info = self.info(model)
        if info is None:
            usage.cost_usd = None
            return
        usage.cost_usd = cost_usd(
            info,
            input_tokens=max(usage.input_tokens, 0),
            cached_tokens=min(max(usage.cached_tokens, 0), max(usage.input_tokens, 0)),
            output_tokens=max(usage.output_tokens, 0),
        )

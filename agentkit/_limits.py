"""Run budgets (``UsageLimits``) and a request/token rate limiter shared by concurrent runs."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from ._result import Usage


@dataclass(frozen=True)
class UsageLimits:
    """Budgets for one run; the run ends with ``UsageLimitExceeded`` when one is reached.

    ``None`` means no limit. Token and cost limits are checked after each model reply (the reply
    that crosses the limit is kept in ``messages``); the tool-call limit is checked before a
    turn's calls run: when the turn would exceed it, none of them runs and each gets a
    "not run: limit reached" result.
    """

    tool_calls: int | None = None
    """Tool calls per run."""
    input_tokens: int | None = None
    """Prompt tokens summed over the run."""
    output_tokens: int | None = None
    """Completion tokens summed over the run."""
    cost_usd: float | None = None
    """USD summed over the run (needs a price for the model; an unknown price never stops a run)."""

    def exceeded(self, usage: Usage) -> tuple[str, str] | None:
        """Return ``(limit name, message)`` for the first limit ``usage`` is past, or ``None``."""
        checks: list[tuple[str, float | None, float | None]] = [
            ("input_tokens", self.input_tokens, usage.input_tokens),
            ("output_tokens", self.output_tokens, usage.output_tokens),
            ("cost_usd", self.cost_usd, usage.cost_usd),
        ]
        for name, limit, spent in checks:
            if limit is not None and spent is not None and spent > limit:
                return name, f"The run spent {spent:g} {name}, past its limit of {limit:g}."
        return None


@dataclass
class _Bucket:
    """The generic cell rate algorithm: a budget of ``per_minute`` units that refills continuously,
    with a burst of one minute's worth (as the API's per-minute limits allow)."""

    per_minute: float
    tat: float = 0.0
    """The theoretical arrival time: when everything reserved so far has been paid back."""

    def reserve(self, amount: float, now: float) -> float:
        """Reserve ``amount`` units and return the seconds to wait before using them."""
        self.tat = max(self.tat, now) + amount * 60.0 / self.per_minute
        return max(self.tat - 60.0 - now, 0.0)


@dataclass
class RateLimiter:
    """Keeps every run that shares it under requests- and tokens-per-minute limits, per model.

    Pass the same object to several agents (or share one agent): a busy service then waits a
    little before a request instead of living on 429 retries. Works across event loops and
    threads. Token use is estimated before a request (4 characters a token) and corrected with the
    usage the API reports.

    Args:
        requests_per_minute: Requests per minute per model, or ``None``.
        tokens_per_minute: Input plus output tokens per minute per model, or ``None``.
    """

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    async def acquire(self, model: str, estimated_tokens: int) -> None:
        """Wait until a request of about ``estimated_tokens`` tokens may be sent for ``model``."""
        wait = 0.0
        with self._lock:
            now = time.monotonic()
            if self.requests_per_minute:
                wait = max(wait, self._bucket(model, "requests", self.requests_per_minute).reserve(1, now))
            if self.tokens_per_minute:
                bucket = self._bucket(model, "tokens", self.tokens_per_minute)
                wait = max(wait, bucket.reserve(estimated_tokens, now))
        if wait > 0:
            await asyncio.sleep(wait)

    def settle(self, model: str, estimated_tokens: int, actual_tokens: int) -> None:
        """Correct the token reservation with the usage the API reported."""
        if not self.tokens_per_minute or actual_tokens <= 0:
            return
        with self._lock:
            bucket = self._bucket(model, "tokens", self.tokens_per_minute)
            bucket.tat += (actual_tokens - estimated_tokens) * 60.0 / self.tokens_per_minute

    def _bucket(self, model: str, kind: str, per_minute: float) -> _Bucket:
        key = (model, kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(per_minute)
        return bucket

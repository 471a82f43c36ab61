"""API keys (stored as SHA-256 hashes), bearer authentication and a per-key rate limit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from ..exceptions import ServeError
from ._store import Record, ServeStore

KEY_PREFIX = "ak-"
"""Every key starts with this, so a leaked key is easy to recognise (and to scan for)."""

KEY_KIND = "api_key"


def hash_key(key: str) -> str:
    """The SHA-256 hex digest under which a key is stored; the key itself never is."""
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(store: ServeStore, user: str) -> str:
    """Create a new API key for ``user`` and return it (shown once, never stored).

    The key is 256 random bits from ``secrets`` (URL-safe base64) after ``ak-``.

    Raises:
        ServeError: ``user`` is empty or longer than 256 characters.
    """
    if not user or len(user) > 256 or user != user.strip():
        raise ServeError("A user name must be 1-256 characters without surrounding spaces.", param="user")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    digest = hash_key(key)
    record = {"user": user, "hash": digest, "created_at": int(time.time())}
    await store.save([Record(KEY_KIND, digest, user, record)])
    return key


KEY_CACHE_SECONDS = 10.0
"""How long a verified key is trusted without asking the store again (a deleted key's grace)."""


async def authenticate(
    store: ServeStore, authorization: str | None, cache: dict[str, tuple[str, float]] | None = None
) -> tuple[str, str]:
    """Return ``(user, key hash)`` for an ``Authorization: Bearer ...`` header.

    The key is looked up by its hash, and the stored hash is compared with the computed one in
    constant time (``hmac.compare_digest``). Verified keys are remembered in ``cache`` for
    ``KEY_CACHE_SECONDS``; unknown keys never are.

    Raises:
        ServeError: 401 when the header is missing, malformed, or names no key.
    """
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ServeError(
            "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.",
            status_code=401,
            code="missing_api_key",
        )
    key = key.strip()
    digest = hash_key(key)
    now = time.monotonic()
    remembered = cache.get(digest) if cache is not None else None
    if remembered is not None and remembered[1] > now:
        return remembered[0], digest
    record = await store.get(KEY_KIND, digest, None) if len(key) < 200 else None
    stored = str(record.get("hash", "")) if record else ""
    if record is None or not hmac.compare_digest(stored.encode(), digest.encode()):
        raise ServeError("Incorrect API key provided.", status_code=401, code="invalid_api_key")
    user = str(record["user"])
    if cache is not None:
        if len(cache) > 100_000:
            cache.clear()
        cache[digest] = (user, now + KEY_CACHE_SECONDS)
    return user, digest


@dataclass(frozen=True)
class RateLimit:
    """A token bucket per API key: ``requests`` per ``per_seconds``, with bursts up to ``requests``."""

    requests: int = 600
    """Requests allowed per window (also the burst size)."""
    per_seconds: float = 60.0
    """The window, in seconds."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """Counts requests per key hash in this process (one service process per store)."""

    limit: RateLimit
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def check(self, key_hash: str) -> None:
        """Take one token for this key.

        Raises:
            ServeError: 429 when the bucket is empty; ``retry_after`` tells when one is back.
        """
        now = time.monotonic()
        rate = self.limit.requests / self.limit.per_seconds
        bucket = self._buckets.get(key_hash)
        if bucket is None:
            bucket = self._buckets[key_hash] = _Bucket(float(self.limit.requests), now)
        bucket.tokens = min(float(self.limit.requests), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            wait = (1.0 - bucket.tokens) / rate
            raise ServeError(
                f"Rate limit reached for this API key: {self.limit.requests} requests per "
                f"{self.limit.per_seconds:g} s. Try again in {wait:.2f} s.",
                status_code=429,
                type="requests",
                code="rate_limit_exceeded",
                headers={"retry-after": f"{max(wait, 0.001):.3f}"},
            )
        bucket.tokens -= 1.0
        if len(self._buckets) > 100_000:  # forget idle keys rather than grow without bound
            self._buckets = {
                k: b for k, b in self._buckets.items() if now - b.updated < self.limit.per_seconds
            }

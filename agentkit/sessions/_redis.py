"""``RedisSession``: threads shared by several worker processes or machines (redis-py).

Keys, under ``prefix`` (``agentkit`` by default): ``{prefix}:schema`` (the schema version),
``{prefix}:items:{id}`` (a list of JSON items), ``{prefix}:threads`` (a sorted set of thread ids
by last write), ``{prefix}:lock:{id}`` and ``{prefix}:definitions`` (a hash). An append is one
``MULTI``/``EXEC`` transaction. The run lock is a key with a lease that the holder renews; a
holder that dies stops renewing, so its lock expires after at most ``lock_lease`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any

from .._config import check_number
from ..exceptions import ConfigurationError, SessionError
from ._codec import SCHEMA_VERSION, acquire_polling, check_version, decode_item, encode_items, missing_version
from ._definitions import AgentDefinition

logger = logging.getLogger("agentkit")

# Renew or release the lock only if this holder still owns it.
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end"
    " return 0"
)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _import_redis() -> Any:
    try:
        import redis.asyncio
    except ImportError as exc:
        raise ConfigurationError("RedisSession needs redis-py: pip install 'agentkit-openai[redis]'") from exc
    return redis


class RedisSession:
    """A thread stored in Redis.

    The session opens a client on first use; close it with ``await session.aclose()`` or
    ``async with RedisSession(...) as session:``.

    Args:
        session_id: The thread's id.
        url: A Redis URL, e.g. ``"redis://127.0.0.1:6379/0"``.
        prefix: Prepended to every key.
        lock_timeout: Seconds ``lock()`` waits while another run holds this thread before
            ``SessionBusyError`` (0: fail at once).
        lock_lease: Seconds the run lock outlives a holder that stopped renewing it (crashed).
    """

    def __init__(
        self,
        session_id: str,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "agentkit",
        lock_timeout: float = 0.0,
        lock_lease: float = 30.0,
    ) -> None:
        check_number("RedisSession(lock_timeout=...)", lock_timeout, minimum=0)
        check_number("RedisSession(lock_lease=...)", lock_lease, minimum=0, exclusive=True)
        self._redis = _import_redis()
        self.session_id = session_id
        self.url = url
        self.prefix = prefix
        self.lock_timeout = lock_timeout
        self.lock_lease = lock_lease
        self._client: Any = None
        # Two tasks sharing this object must not each build (and one leak) a client.
        self._connecting = asyncio.Lock()
        self._items_key = f"{prefix}:items:{session_id}"
        self._threads_key = f"{prefix}:threads"
        self._definitions_key = f"{prefix}:definitions"

    def __repr__(self) -> str:
        return f"RedisSession({self.session_id!r}, prefix={self.prefix!r})"

    async def __aenter__(self) -> RedisSession:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client (it is reopened if the session is used again)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _connected(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._connecting:
            if self._client is None:
                client = self._redis.asyncio.Redis.from_url(self.url)
                try:
                    schema_key = f"{self.prefix}:schema"
                    if not await client.exists(schema_key) and await client.exists(
                        self._threads_key, self._definitions_key
                    ):
                        raise missing_version(f"Redis prefix {self.prefix!r}")
                    await client.set(schema_key, str(SCHEMA_VERSION), nx=True)
                    found = await client.get(schema_key)
                    check_version(
                        found.decode() if found is not None else None, where=f"Redis prefix {self.prefix!r}"
                    )
                except BaseException:
                    await client.aclose()
                    raise
                self._client = client
        return self._client

    async def _run(self, op: Any) -> Any:
        """Await ``op(client)``, turning Redis errors into ``SessionError``."""
        try:
            return await op(await self._connected())
        except self._redis.RedisError as exc:
            raise SessionError(f"Redis error: {exc}") from exc

    async def load(self) -> list[dict[str, Any]]:
        """Return every item of this thread, oldest first.

        Raises:
            SessionCorruptError: An item is not a JSON object.
        """
        raws = await self._run(lambda c: c.lrange(self._items_key, 0, -1))
        where = f"item {{}} of {self._items_key!r}"
        return [decode_item(raw, where=where.format(i)) for i, raw in enumerate(raws)]

    async def append(self, items: Sequence[dict[str, Any]]) -> None:
        """Store ``items`` after the existing ones, in one ``MULTI``/``EXEC`` transaction."""
        encoded = encode_items(items)
        if not encoded:
            return

        async def op(client: Any) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.rpush(self._items_key, *encoded)
                pipe.zadd(self._threads_key, {self.session_id: time.time()})
                await pipe.execute()

        await self._run(op)

    async def clear(self) -> None:
        """Delete every item of this thread."""

        async def op(client: Any) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.delete(self._items_key)
                pipe.zrem(self._threads_key, self.session_id)
                await pipe.execute()

        await self._run(op)

    async def list_sessions(self) -> list[str]:
        """Return the ids of all non-empty threads under this prefix."""
        ids = await self._run(lambda c: c.zrange(self._threads_key, 0, -1))
        return sorted(i.decode() for i in ids)

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold this thread for one run, across every process and machine using this Redis."""
        return self._lock()

    @asynccontextmanager
    async def _lock(self) -> AsyncIterator[None]:
        key = f"{self.prefix}:lock:{self.session_id}"
        token = uuid.uuid4().hex
        lease_ms = int(self.lock_lease * 1000)

        async def try_acquire() -> bool:
            return bool(await self._run(lambda c: c.set(key, token, nx=True, px=lease_ms)))

        await acquire_polling(try_acquire, timeout=self.lock_timeout, session_id=self.session_id)
        renewer = asyncio.create_task(self._renew(key, token, lease_ms))
        try:
            yield
        finally:
            renewer.cancel()
            # A renewal that failed (Redis unreachable) is logged, never raised over the run's
            # own result or exception.
            try:
                await renewer
            except asyncio.CancelledError:
                pass
            except Exception:
                logger.warning("renewing the run lock of session %r failed", self.session_id, exc_info=True)
            if self._client is None:  # closed while held: the lease ends it
                logger.warning("session %r was closed while a run held it", self.session_id)
            else:
                await self._run(lambda c: c.eval(_RELEASE, 1, key, token))

    async def _renew(self, key: str, token: str, lease_ms: int) -> None:
        while True:
            await asyncio.sleep(lease_ms / 3000)
            if not await self._run(lambda c: c.eval(_RENEW, 1, key, token, lease_ms)):
                logger.warning("the run lock of session %r expired while held", self.session_id)
                return

    async def save_definition(self, definition: AgentDefinition) -> None:
        """Store ``definition`` under its name."""
        (raw,) = encode_items([definition.to_json()])
        await self._run(lambda c: c.hset(self._definitions_key, definition.name, raw))

    async def load_definition(self, name: str) -> AgentDefinition:
        """Return the definition saved as ``name`` (``KeyError`` if there is none)."""
        raw = await self._run(lambda c: c.hget(self._definitions_key, name))
        if raw is None:
            raise KeyError(name)
        where = f"definition {name!r} under Redis prefix {self.prefix!r}"
        return AgentDefinition.from_json(decode_item(raw, where=where), where=where)

    async def list_definitions(self) -> list[str]:
        """Return the names of every saved definition."""
        names = await self._run(lambda c: c.hkeys(self._definitions_key))
        return sorted(n.decode() for n in names)

    async def delete_definition(self, name: str) -> None:
        """Delete the definition saved as ``name``, if any."""
        await self._run(lambda c: c.hdel(self._definitions_key, name))

"""Code run in child processes by the session tests (importable under the ``spawn`` start method)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any


def make_session(kind: str, options: dict[str, Any], session_id: str, **kw: Any) -> Any:
    from agentkit.sessions import PostgresSession, RedisSession, SQLiteSession

    cls: Any = {"sqlite": SQLiteSession, "postgres": PostgresSession, "redis": RedisSession}[kind]
    return cls(session_id, **options, **kw)


async def _close(session: Any) -> None:
    aclose = getattr(session, "aclose", None)
    if aclose is not None:
        await aclose()


def converse(kind: str, options: dict[str, Any], session_id: str, worker: int, turns: int) -> None:
    """Run ``turns`` locked turns on one shared thread; each item records the history length it saw."""

    async def main() -> None:
        for t in range(turns):
            s = make_session(kind, options, session_id, lock_timeout=60)
            try:
                async with s.lock():
                    n = len(await s.load())
                    await s.append([{"role": "user", "content": f"w{worker} t{t}", "n": n}])
                    await asyncio.sleep(0.001)  # give the other worker every chance to interleave
                    await s.append([{"role": "assistant", "content": f"re w{worker} t{t}", "n": n + 1}])
            finally:
                await _close(s)

    asyncio.run(main())


def append_many(kind: str, options: dict[str, Any], prefix: str, threads: int, turns: int) -> None:
    """Append to many distinct threads concurrently from one process."""

    async def one(i: int) -> None:
        s = make_session(kind, options, f"{prefix}-{i}")
        try:
            async with s.lock():
                for t in range(turns):
                    await s.append([{"role": "user", "content": f"{i}/{t}"}])
                    await s.append([{"role": "assistant", "content": f"re {i}/{t}"}])
        finally:
            await _close(s)

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(threads)))

    asyncio.run(main())


def hold_lock(path: str, session_id: str, ready_file: str) -> None:
    """Take a SQLite thread's lock, say so through ``ready_file``, then wait to be killed."""

    async def main() -> None:
        from agentkit.sessions import SQLiteSession

        async with SQLiteSession(session_id, path).lock():
            with open(ready_file, "w") as f:
                f.write(str(os.getpid()))
            time.sleep(600)

    asyncio.run(main())


if __name__ == "__main__":  # pragma: no cover
    hold_lock(*sys.argv[1:4])

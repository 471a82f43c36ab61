"""Cross-process locks for SQLite threads: one byte of a lock file per thread.

POSIX record locks (``fcntl.lockf``) are released by the kernel when their process dies, so a
run killed with SIGKILL never leaves its thread locked. They belong to the process, not to the
file descriptor, so the same process must also keep its own set of held bytes; and closing
*any* descriptor of the file drops all of the process's locks on it, so each process keeps one
descriptor per lock file open for its whole life.
"""

from __future__ import annotations

import hashlib
import os
import threading

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: threads are then locked within one process only
    fcntl = None  # type: ignore[assignment]

_cache: dict[tuple[int, str], RangeLocks] = {}
_cache_mutex = threading.Lock()


def _offset(key: str) -> int:
    # 56 bits keep the offset a positive off_t everywhere; collisions are negligible.
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=7).digest(), "big")


class RangeLocks:
    """Non-blocking exclusive locks on single bytes of one file, keyed by thread id."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if fcntl is not None else -1
        self._held: set[int] = set()
        self._mutex = threading.Lock()

    def try_acquire(self, key: str) -> bool:
        """Take the lock for ``key`` if no run in any process holds it."""
        offset = _offset(key)
        with self._mutex:
            if offset in self._held:
                return False
            if fcntl is not None:
                try:
                    fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset, os.SEEK_SET)
                except OSError:  # EAGAIN or EACCES: another process holds it
                    return False
            self._held.add(offset)
            return True

    def release(self, key: str) -> None:
        """Release the lock for ``key`` (held by this process)."""
        offset = _offset(key)
        with self._mutex:
            if offset not in self._held:
                return
            if fcntl is not None:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, offset, os.SEEK_SET)
            self._held.discard(offset)


def range_locks(path: str) -> RangeLocks:
    """The process-wide ``RangeLocks`` for the lock file at ``path``."""
    key = (os.getpid(), os.path.realpath(path))
    with _cache_mutex:
        locks = _cache.get(key)
        if locks is None:
            locks = _cache[key] = RangeLocks(path)
        return locks

"""What every backend shares: the schema version, item encoding and lock waiting."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..exceptions import SessionBusyError, SessionCorruptError, SessionSchemaError

SCHEMA_VERSION = 1
"""The layout this code reads and writes; a store with any other version is refused."""

_POLL_SECONDS = 0.01


def encode_items(items: Sequence[dict[str, Any]]) -> list[str]:
    """Serialize items before any transaction starts, so a bad item writes nothing."""
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise TypeError(f"a session item must be a dict, not {type(item).__name__}")
        out.append(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
    return out


def decode_item(raw: str | bytes, *, where: str) -> dict[str, Any]:
    """Parse one stored item; anything but a JSON object is corruption, never skipped.

    Args:
        raw: The stored text.
        where: Says where the row lives, for the error message.
    """
    try:
        item = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise SessionCorruptError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(item, dict):
        raise SessionCorruptError(f"{where} is a JSON {type(item).__name__}, not an object")
    return item


def check_version(found: str | int | None, *, where: str) -> None:
    """Refuse a store written by another schema version."""
    if found is not None and str(found) != str(SCHEMA_VERSION):
        raise SessionSchemaError(
            f"{where} has schema version {found!r}; this agentkit reads version {SCHEMA_VERSION} only."
        )


async def acquire_polling(
    try_acquire: Callable[[], Awaitable[bool]], *, timeout: float, session_id: str
) -> None:
    """Call ``try_acquire`` until it succeeds or ``timeout`` seconds pass.

    Raises:
        SessionBusyError: The thread is still held when the time is up.
    """
    deadline = time.monotonic() + timeout
    while not await try_acquire():
        if time.monotonic() >= deadline:
            waited = f" after waiting {timeout:g} s" if timeout > 0 else ""
            raise SessionBusyError(f"Session {session_id!r} is held by another run{waited}.")
        await asyncio.sleep(_POLL_SECONDS)


def missing_version(where: str) -> SessionSchemaError:
    """The error for a store that holds agentkit data but no schema-version record."""
    return SessionSchemaError(
        f"{where} holds agentkit data but no schema-version record; it was not written by this "
        "agentkit (or the record was deleted). Refusing to adopt it: point the session at an empty "
        "store, or restore the record."
    )

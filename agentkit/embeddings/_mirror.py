"""An in-memory copy of a SQLite store's vectors, for exact search at NumPy speed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Mirror"]


class Mirror:
    """Rows ``(rowid, unit vector)`` sorted by rowid, in a matrix that grows by doubling.

    The owner keeps it in step with its own writes (``put``, ``remove``) and reloads it whole
    when another connection changed the file (``version`` differs from ``PRAGMA data_version``).
    """

    def __init__(self, version: int, rowids: np.ndarray[Any, Any], matrix: np.ndarray[Any, Any]) -> None:
        self.version = version
        """``PRAGMA data_version`` when loaded: it changes when another connection commits."""
        self._rowids = rowids
        self._matrix = matrix
        self._n = len(rowids)

    @classmethod
    def load(cls, conn: Any, dimensions: int) -> Mirror:
        """Read every vector of the store."""
        import numpy as np

        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        rows = conn.execute("SELECT rowid, embedding FROM agentkit_vec_items ORDER BY rowid").fetchall()
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dimensions)
        return cls(version, rowids, matrix.copy())

    def __len__(self) -> int:
        return self._n

    def put(self, rowids: Sequence[int], vectors: np.ndarray[Any, Any]) -> None:
        """Insert or replace rows."""
        import numpy as np

        ids = np.asarray(rowids, dtype=np.int64)
        current = self._rowids[: self._n]
        positions = np.searchsorted(current, ids)
        found = (positions < self._n) & (current[np.minimum(positions, max(self._n - 1, 0))] == ids)
        if found.any():
            self._matrix[positions[found]] = vectors[found]
        new_ids, new_vectors = ids[~found], vectors[~found]
        if not len(new_ids):
            return
        total = self._n + len(new_ids)
        if total > len(self._rowids):
            capacity = max(total, 2 * len(self._rowids), 16)
            grown_ids = np.empty(capacity, dtype=np.int64)
            grown = np.empty((capacity, vectors.shape[1]), dtype=np.float32)
            grown_ids[: self._n], grown[: self._n] = current, self._matrix[: self._n]
            self._rowids, self._matrix = grown_ids, grown
        self._rowids[self._n : total] = new_ids
        self._matrix[self._n : total] = new_vectors
        self._n = total
        used = self._rowids[:total]
        if total > 1 and not np.all(used[1:] > used[:-1]):  # a reused rowid landed out of order
            order = np.argsort(used, kind="stable")
            self._rowids[:total], self._matrix[:total] = used[order], self._matrix[:total][order]

    def remove(self, rowids: Sequence[int]) -> None:
        """Drop rows."""
        import numpy as np

        keep = ~np.isin(self._rowids[: self._n], np.asarray(rowids, dtype=np.int64))
        kept = int(keep.sum())
        self._rowids[:kept] = self._rowids[: self._n][keep]
        self._matrix[:kept] = self._matrix[: self._n][keep]
        self._n = kept

    def search(
        self, vector: np.ndarray[Any, Any], k: int, among: np.ndarray[Any, Any] | None
    ) -> list[tuple[int, float]]:
        """The ``k`` best ``(rowid, cosine)`` pairs, best first, among some rowids or all."""
        import numpy as np

        if not self._n:
            return []
        rowids, matrix = self._rowids[: self._n], self._matrix[: self._n]
        if among is not None:
            positions = np.searchsorted(rowids, among)
            positions = positions[
                (positions < self._n) & (rowids[np.minimum(positions, self._n - 1)] == among)
            ]
            rowids, matrix = rowids[positions], matrix[positions]
        if not len(rowids):
            return []
        scores = matrix @ vector
        top = min(k, len(scores))
        best = np.argpartition(-scores, top - 1)[:top]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(rowids[i]), float(scores[i])) for i in best]

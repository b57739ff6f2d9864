"""An LRU cache of embedding rows in front of a sharded table, kept current on updates.

Updates reach it two ways: an upsert through the same table object calls the cache back
with the new rows and versions (write-through: a cached row is replaced, never served
stale); a commit by another connection or process changes the shard's ``PRAGMA
data_version``, and the next lookup drops every cached row of that shard before serving.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import numpy.typing as npt

from mlfleet.checks import positive_int
from mlfleet.storage.features.embedding.routing import EmbeddingInputError, IdArray, as_ids
from mlfleet.storage.features.embedding.table import Lookup, ShardedEmbeddingTable, Vectors


class EmbeddingCache:
    """Up to ``capacity_rows`` rows of ``table``, least recently used evicted first."""

    def __init__(self, table: ShardedEmbeddingTable, *, capacity_rows: int) -> None:
        self.table = table
        self.capacity_rows = positive_int("capacity_rows", capacity_rows,
                                          error=EmbeddingInputError)
        self._rows: OrderedDict[int, tuple[int, Vectors]] = OrderedDict()
        self._seen_versions = table.data_versions()
        self.hits = self.misses = 0
        table.subscribe(self._on_upsert)

    def __len__(self) -> int:
        return len(self._rows)

    def _on_upsert(self, ids: IdArray, versions: npt.NDArray[np.int64], vectors: Vectors) -> None:
        for row_id, version, vector in zip(ids.tolist(), versions.tolist(), vectors, strict=True):
            if row_id in self._rows:
                self._rows[row_id] = (version, vector.copy())

    def _drop_changed_shards(self) -> None:
        now = self.table.data_versions()
        changed = [k for k, (a, b) in enumerate(zip(self._seen_versions, now, strict=True))
                   if a != b]
        self._seen_versions = now
        if not changed or not self._rows:
            return
        cached = np.fromiter(self._rows, dtype=np.int64, count=len(self._rows))
        stale = cached[np.isin(self.table.router.shard_of(cached), changed)]
        for row_id in stale.tolist():
            del self._rows[row_id]

    def lookup(self, ids: npt.ArrayLike) -> Lookup:
        """Rows of ``ids``: cached ones from memory, the rest in one batched table lookup."""
        self._drop_changed_shards()
        id_arr = as_ids(ids)
        served: dict[int, tuple[int, Vectors]] = {}
        missing: list[int] = []
        for row_id in dict.fromkeys(id_arr.tolist()):
            entry = self._rows.get(row_id)
            if entry is None:
                missing.append(row_id)
            else:
                self._rows.move_to_end(row_id)
                served[row_id] = entry
        self.hits, self.misses = self.hits + len(served), self.misses + len(missing)
        if not missing:
            return self._assemble(id_arr, served, 0)
        fetched = self.table.lookup(np.array(missing, dtype=np.int64))
        for row_id, version, vector, found in zip(missing, fetched.versions.tolist(),
                                                  fetched.vectors, fetched.found, strict=True):
            if found:
                served[row_id] = (version, vector)
                self._put(row_id, version, vector)
        return self._assemble(id_arr, served, fetched.shard_requests)

    def _put(self, row_id: int, version: int, vector: Vectors) -> None:
        self._rows[row_id] = (version, vector.copy())
        self._rows.move_to_end(row_id)
        while len(self._rows) > self.capacity_rows:
            self._rows.popitem(last=False)

    def _assemble(self, ids: IdArray, served: dict[int, tuple[int, Vectors]],
                  requests: int) -> Lookup:
        vectors = np.zeros((ids.size, self.table.dim), dtype=np.float32)
        versions = np.zeros(ids.size, dtype=np.int64)
        found = np.zeros(ids.size, dtype=bool)
        for at, row_id in enumerate(ids.tolist()):
            if row_id in served:
                versions[at], vectors[at] = served[row_id]
                found[at] = True
        return Lookup(vectors=vectors, versions=versions, found=found, shard_requests=requests)

"""A sharded embedding table: ``N × d`` float32 rows across ``K`` SQLite files.

Shard ``k`` is ``shard-kkk.db`` with table ``emb(id INTEGER PRIMARY KEY, version, vec)``;
a :class:`~mlfleet.storage.features.embedding.routing.Router` says which shard holds an
id. A batched :meth:`ShardedEmbeddingTable.lookup` sends one query per shard the batch
touches (up to :data:`MAX_IDS_PER_QUERY` ids each) and reassembles the rows in the
order asked. :meth:`ShardedEmbeddingTable.upsert` writes each shard in one transaction,
increments each row's version, and then tells every subscriber (a cache) the new rows;
writers in other processes show up through each shard's ``PRAGMA data_version``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mlfleet.storage.features.embedding.routing import (
    EmbeddingInputError,
    IdArray,
    Router,
    as_ids,
)

MAX_IDS_PER_QUERY = 30_000
"""Ids per ``IN (…)`` query (SQLite allows 32,766 bound parameters)."""
Vectors = npt.NDArray[np.float32]
"""``(B, d)`` float32 rows."""
Listener = Callable[[IdArray, npt.NDArray[np.int64], Vectors], None]
"""Called after an upsert with the ids, their new versions and vectors."""


@dataclass(frozen=True, kw_only=True)
class Lookup:
    """Rows of a batched lookup, in the order of the ids asked for."""

    vectors: Vectors
    """``(B, d)``; zeros where ``found`` is False."""
    versions: npt.NDArray[np.int64]
    """``(B,)`` each row's version (1 after its first write); 0 where not found."""
    found: npt.NDArray[np.bool_]
    """``(B,)`` whether the table holds the id."""
    shard_requests: int
    """Queries sent to shards for this batch."""


class ShardedEmbeddingTable:
    """``dim``-wide float32 rows in ``router.num_shards`` SQLite files under ``directory``."""

    def __init__(self, directory: Path, *, dim: int, router: Router) -> None:
        if not isinstance(dim, int) or dim < 1:
            raise EmbeddingInputError(f"dim(={dim!r}) must be an integer >= 1")
        self.dim, self.router = dim, router
        directory.mkdir(parents=True, exist_ok=True)
        self._shards = [self._open(directory / f"shard-{k:03d}.db")
                        for k in range(router.num_shards)]
        self._listeners: list[Listener] = []

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")     # WAL: durable at checkpoints
        conn.execute("CREATE TABLE IF NOT EXISTS emb "
                     "(id INTEGER PRIMARY KEY, version INTEGER NOT NULL, vec BLOB NOT NULL)")
        conn.commit()
        return conn

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` after every upsert through this table object."""
        self._listeners.append(listener)

    def _vectors(self, vectors: npt.ArrayLike, count: int) -> Vectors:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.shape != (count, self.dim):
            raise EmbeddingInputError(f"vectors of shape {arr.shape} do not match "
                                      f"{count} ids × dim {self.dim}")
        return arr

    def upsert(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Write rows (the last one wins for an id given twice); their new versions."""
        id_arr = as_ids(ids)
        vec_arr = self._vectors(vectors, id_arr.size)
        # Keep the last occurrence of each id.
        _, last_rev = np.unique(id_arr[::-1], return_index=True)
        keep = np.sort(id_arr.size - 1 - last_rev)
        id_arr, vec_arr = id_arr[keep], vec_arr[keep]
        shards = self.router.shard_of(id_arr)
        versions = np.zeros(id_arr.size, dtype=np.int64)
        for shard in np.unique(shards):
            mask = shards == shard
            versions[mask] = self._upsert_shard(int(shard), id_arr[mask], vec_arr[mask])
        for listener in self._listeners:
            listener(id_arr, versions, vec_arr)
        return versions

    def _upsert_shard(self, shard: int, ids: IdArray, vectors: Vectors) -> npt.NDArray[np.int64]:
        conn = self._shards[shard]
        with conn:
            conn.executemany("INSERT INTO emb (id, version, vec) VALUES (?, 1, ?) "
                             "ON CONFLICT(id) DO UPDATE SET vec = excluded.vec, "
                             "version = emb.version + 1",
                             zip(ids.tolist(), (v.tobytes() for v in vectors), strict=True))
            stored = self._select(conn, ids, columns="id, version")
        version_of = {int(row[0]): int(row[1]) for row in stored}
        return np.array([version_of[i] for i in ids.tolist()], dtype=np.int64)

    def lookup(self, ids: npt.ArrayLike) -> Lookup:
        """The rows of ``ids`` (duplicates allowed), one query per shard touched."""
        id_arr = as_ids(ids)
        unique, inverse = np.unique(id_arr, return_inverse=True)
        u_vectors = np.zeros((unique.size, self.dim), dtype=np.float32)
        u_versions = np.zeros(unique.size, dtype=np.int64)
        u_found = np.zeros(unique.size, dtype=bool)
        shards = self.router.shard_of(unique)
        requests = 0
        for shard in np.unique(shards):
            wanted = unique[shards == shard]
            rows = self._select(self._shards[int(shard)], wanted, columns="id, version, vec")
            requests += -(-wanted.size // MAX_IDS_PER_QUERY)
            if not rows:
                continue
            got_ids, got_versions, blobs = zip(*rows, strict=True)
            if any(len(blob) != 4 * self.dim for blob in blobs):
                raise EmbeddingInputError(f"shard {int(shard)} holds rows that are not "
                                          f"{self.dim} float32 wide (opened with another dim?)")
            at = np.searchsorted(unique, np.asarray(got_ids, dtype=np.int64))
            u_vectors[at] = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, self.dim)
            u_versions[at], u_found[at] = got_versions, True
        return Lookup(vectors=u_vectors[inverse], versions=u_versions[inverse],
                      found=u_found[inverse], shard_requests=requests)

    @staticmethod
    def _select(conn: sqlite3.Connection, ids: IdArray, *, columns: str) -> list[tuple[int, ...]]:
        rows: list[tuple[int, ...]] = []
        listed = ids.tolist()
        for start in range(0, len(listed), MAX_IDS_PER_QUERY):
            chunk = listed[start:start + MAX_IDS_PER_QUERY]
            rows += conn.execute(f"SELECT {columns} FROM emb WHERE id IN "
                                 f"({', '.join('?' * len(chunk))})", chunk).fetchall()
        return rows

    def data_versions(self) -> list[int]:
        """Each shard's ``PRAGMA data_version``: it changes when another connection commits."""
        return [int(conn.execute("PRAGMA data_version").fetchone()[0]) for conn in self._shards]

    def close(self) -> None:
        """Close every shard."""
        for conn in self._shards:
            conn.close()

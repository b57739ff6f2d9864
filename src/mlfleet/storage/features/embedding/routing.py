"""Which shard holds an embedding row: by hash or by id range.

* :class:`HashRouter` — ``splitmix64(id) mod K``: spreads any id set evenly (hot ids of
  a Zipf-popular table land on different shards), but a range of ids touches every shard.
* :class:`RangeRouter` — ``K − 1`` sorted split points; shard ``k`` holds
  ``[split[k−1], split[k])``: monotone in the id, so an id range touches few shards, but
  a popular range makes one shard hot.

Both are vectorised over numpy id arrays and deterministic (no Python ``hash``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mlfleet.checks import positive_int
from mlfleet.errors import InputError

IdArray = npt.NDArray[np.int64]
"""Embedding row ids (>= 0)."""
ShardArray = npt.NDArray[np.int64]
"""One shard index per id."""
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


class EmbeddingInputError(InputError):
    """A bad embedding-table argument: shard count, split points, ids or vector shape."""


def as_ids(ids: npt.ArrayLike) -> IdArray:
    """``ids`` as a 1-D int64 array of non-negative ids; EmbeddingInputError otherwise."""
    arr = np.asarray(ids)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise EmbeddingInputError(f"ids must be a 1-D array of integers, got dtype {arr.dtype} "
                                  f"and shape {arr.shape}")
    arr = arr.astype(np.int64)
    if arr.size and int(arr.min()) < 0:
        raise EmbeddingInputError(f"ids must be >= 0; got {int(arr.min())}")
    return arr


def splitmix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The SplitMix64 finalizer (Steele, Lea, Flood, OOPSLA 2014), elementwise mod 2**64."""
    with np.errstate(over="ignore"):
        z = values + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


class Router(Protocol):
    """Maps ids to shards in ``[0, num_shards)``; each id to exactly one."""

    num_shards: int

    def shard_of(self, ids: IdArray) -> ShardArray: ...


class HashRouter:
    """``splitmix64(id) mod num_shards``."""

    def __init__(self, num_shards: int) -> None:
        self.num_shards = positive_int("num_shards", num_shards, error=EmbeddingInputError)

    def shard_of(self, ids: IdArray) -> ShardArray:
        """The shard of each id."""
        mixed = splitmix64(as_ids(ids).astype(np.uint64))
        return (mixed % np.uint64(self.num_shards)).astype(np.int64)


class RangeRouter:
    """Shard ``k`` holds ids in ``[splits[k−1], splits[k])`` (open at both outer ends)."""

    def __init__(self, splits: Sequence[int]) -> None:
        arr = np.asarray(splits, dtype=np.int64)
        if arr.ndim != 1 or np.any(np.diff(arr) <= 0) or (arr.size and arr[0] <= 0):
            raise EmbeddingInputError(f"splits(={list(splits)!r}) must be strictly increasing "
                                      "ids > 0")
        self.splits = arr
        self.num_shards = int(arr.size) + 1

    @classmethod
    def even(cls, *, num_rows: int, num_shards: int) -> RangeRouter:
        """Equal ranges of ``[0, num_rows)`` over ``num_shards`` shards (the last takes the
        rest and any id beyond)."""
        positive_int("num_rows", num_rows, error=EmbeddingInputError)
        positive_int("num_shards", num_shards, error=EmbeddingInputError)
        if num_shards > num_rows:
            raise EmbeddingInputError(f"num_shards(={num_shards}) must be <= "
                                      f"num_rows(={num_rows})")
        step = num_rows / num_shards
        return cls([round(step * k) for k in range(1, num_shards)])

    def shard_of(self, ids: IdArray) -> ShardArray:
        """The shard of each id."""
        return np.searchsorted(self.splits, as_ids(ids), side="right").astype(np.int64)


ROUTINGS = ("hash", "range")
"""Routing schemes :func:`make_router` builds."""


def make_router(routing: str, *, num_shards: int, num_rows: int) -> Router:
    """A router by name (:data:`ROUTINGS`); ``num_rows`` sizes range routing."""
    if routing == "hash":
        return HashRouter(num_shards)
    if routing == "range":
        return RangeRouter.even(num_rows=num_rows, num_shards=num_shards)
    raise EmbeddingInputError(f"routing(={routing!r}) is unknown; known: {', '.join(ROUTINGS)}")

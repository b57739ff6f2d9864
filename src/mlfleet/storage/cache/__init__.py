"""Caches and tiers: replay access traces through LRU, LFU and ARC; Che's approximation;
sequential read-ahead; a tier simulation on :mod:`mlfleet.sim`.

Every policy implements :class:`Cache` (``access(item) -> hit``) over unit-size blocks and is
registered in :data:`POLICIES`; :func:`policy` rejects unknown names with the list of known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mlfleet.checks import one_of, positive_int
from mlfleet.errors import InputError


class CacheInputError(InputError):
    """A cache or trace argument out of range (a size, a policy name, a trace spec)."""


class Cache(Protocol):
    """A cache of unit-size blocks with a fixed capacity.

    Contract: ``access(item)`` returns True on a hit and False on a miss; on a miss the item is
    admitted, evicting what the policy chooses, so that ``len(cache) <= capacity`` always holds.
    """

    capacity: int

    def access(self, item: int) -> bool: ...

    def __contains__(self, item: int) -> bool: ...

    def __len__(self) -> int: ...


def _policies() -> dict[str, Callable[[int], Cache]]:
    from mlfleet.storage.cache.arc import ArcCache
    from mlfleet.storage.cache.lfu import LfuCache
    from mlfleet.storage.cache.lru import LruCache

    return {"lru": LruCache, "lfu": LfuCache, "arc": ArcCache}


POLICY_NAMES = ("lru", "lfu", "arc")


def policy(name: str, capacity: int) -> Cache:
    """A fresh cache of policy ``name``; CacheInputError for an unknown name or capacity < 1."""
    one_of("policy", name, POLICY_NAMES, error=CacheInputError)
    positive_int("capacity", capacity, error=CacheInputError)
    return _policies()[name](capacity)


def replay(cache: Cache, trace: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Feed ``trace`` through ``cache`` access by access; True where the access hit."""
    access = cache.access
    return np.fromiter((access(item) for item in trace.tolist()), dtype=np.bool_,
                       count=len(trace))

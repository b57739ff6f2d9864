"""A feature lookup that survives the online store going down: cache, then default.

:class:`FallbackReader` wraps any :class:`~mlfleet.storage.features.online_store.OnlineStore`
(SQLite or a real Redis). A read that the store answers refreshes a local cache; a read
that fails (the store raised one of ``store_errors``) is answered per key from the cache
when its copy is at most ``max_staleness_s`` old, else from ``defaults``. Every answer
says which source served it, so a caller can count degraded replies and the quality
model (:mod:`.feature_fallback`) can price them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mlfleet.checks import positive
from mlfleet.reliability.errors import ReliabilityInputError
from mlfleet.storage.features.online_store import FeatureValue, OnlineStore


@dataclass(frozen=True, kw_only=True)
class Served:
    """One entity's features and where they came from."""

    values: Mapping[str, FeatureValue]
    source: str
    """``store``, ``cached`` or ``default``."""
    age_s: float
    """Seconds since the values were read from the store (0 for store, inf for default)."""


def default_store_errors() -> tuple[type[BaseException], ...]:
    """What a failed read raises: OS/socket errors, SQLite errors and Redis errors."""
    import sqlite3

    errors: list[type[BaseException]] = [OSError, sqlite3.Error]
    try:
        import redis
        errors.append(redis.RedisError)
    except ImportError:  # the redis client is an extra
        pass
    return tuple(errors)


class FallbackReader:
    """Reads through ``store``; on a store error serves cached or default values."""

    def __init__(self, store: OnlineStore, *, defaults: Mapping[str, FeatureValue],
                 max_staleness_s: float, clock: Callable[[], float] = time.monotonic,
                 store_errors: tuple[type[BaseException], ...] | None = None) -> None:
        self.store = store
        self.defaults = dict(defaults)
        self.max_staleness_s = positive("max_staleness_s", max_staleness_s, allow_inf=True,
                                        error=ReliabilityInputError)
        self._clock = clock
        self._errors = store_errors or default_store_errors()
        self._cache: dict[tuple[str, str], tuple[Mapping[str, FeatureValue], float]] = {}
        self.served: dict[str, int] = {"store": 0, "cached": 0, "default": 0}

    def read(self, view: str, keys: Sequence[str], features: Sequence[str]) -> list[Served]:
        """One entry per key, in order (see the module doc)."""
        now = self._clock()
        try:
            rows = self.store.read(view, keys, features)
        except self._errors:
            out = [self._fallback(view, key, features, now) for key in keys]
        else:
            out = []
            for key, row in zip(keys, rows, strict=True):
                if row is None:
                    out.append(self._default(features))
                    continue
                self._cache[(view, key)] = (row.values, now)
                out.append(Served(values=row.values, source="store", age_s=0.0))
        for item in out:
            self.served[item.source] += 1
        return out

    def _fallback(self, view: str, key: str, features: Sequence[str], now: float) -> Served:
        hit = self._cache.get((view, key))
        if hit is not None and now - hit[1] <= self.max_staleness_s:
            return Served(values=hit[0], source="cached", age_s=now - hit[1])
        return self._default(features)

    def _default(self, features: Sequence[str]) -> Served:
        return Served(values={f: self.defaults.get(f) for f in features}, source="default",
                      age_s=float("inf"))

"""Fallback chain: when the primary cannot answer, serve from the next tier that can —
a simpler model, then a cached response, then a default answer — and say which served
and why (the reply's ``served_by`` and ``fallback_reason``).

The primary is the caller's business (it is usually asynchronous and guarded by a
breaker and a bulkhead); :class:`FallbackChain` holds what comes after it. A tier
answers with a value, or passes with ``None`` or an exception; the last tier (the
default) must always answer. Counts per ``(tier, reason)`` feed the server's metrics.
"""

from __future__ import annotations

import enum
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from mlfleet.checks import positive_int
from mlfleet.errors import InputError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

PRIMARY = "primary"
"""``served_by`` of a reply the primary gave."""
SERVED_BY_HEADER = "X-Served-By"
"""The reply header naming who served it: ``primary`` or a fallback tier."""
REASON_HEADER = "X-Fallback-Reason"
"""The reply header saying why the primary did not (a :class:`FallbackReason` value)."""


class FallbackReason(enum.Enum):
    """Why the primary did not answer; the value is the Prometheus label."""

    BREAKER_OPEN = "breaker_open"
    """The primary's breaker is open (or out of half-open probes): not tried."""
    OVERLOAD = "overload"
    """The primary's bulkhead or queue was full (or it shed the request)."""
    ERROR = "error"
    """The primary raised or answered with a server error."""
    DEADLINE = "deadline"
    """The primary could not answer within the request's deadline."""


@dataclass(frozen=True, kw_only=True)
class Served(Generic[V]):
    """A reply and where it came from."""

    value: V
    served_by: str
    """``primary`` or the name of the tier that answered."""
    reason: FallbackReason | None
    """Why the primary did not answer; ``None`` when it did."""


Tier = tuple[str, Callable[[K], V | None]]
"""A tier's name and its answer (``None``: pass to the next tier)."""


class FallbackChain(Generic[K, V]):
    """Tiers tried in order after the primary failed; the last must always answer."""

    def __init__(self, tiers: Sequence[Tier[K, V]]) -> None:
        if not tiers:
            raise InputError("a fallback chain needs at least its default tier")
        names = [name for name, _ in tiers]
        if PRIMARY in names or len(set(names)) != len(names):
            raise InputError(f"tier names {names} must be unique and not {PRIMARY!r}")
        self.tiers = tuple(tiers)
        self.counts: Counter[tuple[str, FallbackReason]] = Counter()
        self._lock = threading.Lock()

    def serve(self, key: K, reason: FallbackReason) -> Served[V]:
        """The first tier's answer for ``key``; the default tier's errors propagate."""
        *optional, (last_name, last) = self.tiers
        for name, answer in optional:
            try:
                value = answer(key)
            except Exception:  # a broken fallback tier passes to the next one
                value = None
            if value is not None:
                return self._served(value, name, reason)
        value = last(key)
        assert value is not None, f"the default tier {last_name!r} must always answer"
        return self._served(value, last_name, reason)

    def _served(self, value: V, name: str, reason: FallbackReason) -> Served[V]:
        with self._lock:
            self.counts[(name, reason)] += 1
        return Served(value=value, served_by=name, reason=reason)


class ResponseCache(Generic[K, V]):
    """The last ``capacity`` primary replies by key, least recently used evicted first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = positive_int("capacity", capacity)
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def __len__(self) -> int:
        return len(self._items)

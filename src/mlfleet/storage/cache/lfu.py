"""Least frequently used, with counts kept for every block ever seen ("perfect LFU").

Breslau, Cao, Fan, Phillips & Shenker, "Web Caching and Zipf-like Distributions", INFOCOM
1999, Sec. 4: perfect LFU keeps each object's reference count across evictions, so under the
independent reference model it converges to holding the most popular blocks and its hit
rate to the static top-C hit rate (:func:`mlfleet.storage.cache.che.top_c_hit_rate`).
The victim is the cached block with the smallest (count, last access); a missed block is
always admitted.
"""

from __future__ import annotations

import heapq


class LfuCache:
    """Perfect LFU over a lazily cleaned heap of (count, last access, block)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._counts: dict[int, int] = {}
        self._cached: dict[int, tuple[int, int]] = {}
        """Cached block -> its current heap key (count, last access)."""
        self._heap: list[tuple[int, int, int]] = []
        self._clock = 0

    def access(self, item: int) -> bool:
        """True on a hit; on a miss evict the least frequent cached block and admit ``item``."""
        self._clock += 1
        count = self._counts.get(item, 0) + 1
        self._counts[item] = count
        hit = item in self._cached
        if not hit and len(self._cached) >= self.capacity:
            self._evict()
        key = (count, self._clock)
        self._cached[item] = key
        heapq.heappush(self._heap, (*key, item))
        if len(self._heap) > 4 * self.capacity + 64:
            self._compact()
        return hit

    def _evict(self) -> None:
        heap, cached = self._heap, self._cached
        while True:
            count, last, item = heapq.heappop(heap)
            if cached.get(item) == (count, last):  # skip stale keys of re-referenced blocks
                del cached[item]
                return

    def _compact(self) -> None:
        self._heap = [(c, t, item) for item, (c, t) in self._cached.items()]
        heapq.heapify(self._heap)

    def __contains__(self, item: int) -> bool:
        return item in self._cached

    def __len__(self) -> int:
        return len(self._cached)

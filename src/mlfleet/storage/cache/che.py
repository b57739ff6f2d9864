"""Closed forms for cache hit rates under the independent reference model (IRM).

Under the IRM block ``i`` is requested with probability ``p_i`` independently of the past.

* LRU: Che, Tung & Wang, "Hierarchical Web Caching Systems: Modeling, Design and
  Experimental Results", IEEE JSAC 20(7), 2002: a block stays in an LRU cache of ``C`` blocks
  for a characteristic time ``T_C`` after its last request, the root of
  ``sum_i (1 - exp(-p_i T_C)) = C``; its hit probability is ``1 - exp(-p_i T_C)``. Fricker,
  Robert & Roberts, "A Versatile and Accurate Approximation for LRU Cache Performance", ITC 24,
  2012, explain why it is accurate for large catalogues.
* Perfect LFU: converges to the static cache of the ``C`` most popular blocks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def zipf_popularity(items: int, alpha: float) -> FloatArray:
    """``p_i`` proportional to ``i**-alpha`` for ranks ``i = 1..items`` (sums to 1)."""
    weights: FloatArray = np.arange(1, items + 1, dtype=np.float64) ** -alpha
    out: FloatArray = weights / weights.sum()
    return out


def characteristic_time(popularity: FloatArray, capacity: int) -> float:
    """Che's ``T_C`` (in requests): root of ``sum(1 - exp(-p T)) = C``, by bisection.

    ``capacity`` must be below the number of blocks with ``p_i > 0`` (else every block fits).
    """
    p = popularity[popularity > 0]
    assert 0 < capacity < len(p), (capacity, len(p))
    low, high = 0.0, 1.0
    while _occupancy(p, high) < capacity:
        high *= 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if _occupancy(p, mid) < capacity else (low, mid)
        if high - low <= 1e-12 * high:
            break
    return 0.5 * (low + high)


def _occupancy(p: FloatArray, t: float) -> float:
    return float(-np.expm1(-p * t).sum())


def lru_hit_rate(popularity: FloatArray, capacity: int) -> float:
    """Che's approximation of LRU's hit rate: ``sum_i p_i (1 - exp(-p_i T_C))``."""
    if capacity >= np.count_nonzero(popularity):
        return 1.0
    t_c = characteristic_time(popularity, capacity)
    return float(np.sum(popularity * -np.expm1(-popularity * t_c)))


def top_c_hit_rate(popularity: FloatArray, capacity: int) -> float:
    """Hit rate of a static cache of the ``capacity`` most popular blocks (perfect LFU's limit)."""
    return float(np.sort(popularity)[::-1][:capacity].sum())

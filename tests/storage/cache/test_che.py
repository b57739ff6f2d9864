"""Closed forms against replays: Che's approximation for LRU, the static top-C for LFU.

The observed errors are quoted in docs/storage.md ("Caches"); the bounds here hold them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.storage.cache import policy, replay
from mlfleet.storage.cache.che import (
    characteristic_time,
    lru_hit_rate,
    top_c_hit_rate,
    zipf_popularity,
)
from mlfleet.storage.cache.traces import irm

ITEMS, ACCESSES, WARMUP = 100_000, 1_000_000, 200_000


def _steady_hit_rate(name: str, alpha: float, capacity: int) -> float:
    trace = irm(zipf_popularity(ITEMS, alpha), ACCESSES, np.random.default_rng(7))
    return float(replay(policy(name, capacity), trace)[WARMUP:].mean())


@pytest.mark.slow
@pytest.mark.parametrize(("alpha", "capacity"), [(0.8, 1_000), (0.9, 1_000), (1.2, 10_000)])
def test_lru_under_irm_zipf_matches_che(alpha: float, capacity: int) -> None:
    simulated = _steady_hit_rate("lru", alpha, capacity)
    predicted = lru_hit_rate(zipf_popularity(ITEMS, alpha), capacity)
    assert abs(simulated - predicted) / predicted < 0.01, (simulated, predicted)


@pytest.mark.slow
@pytest.mark.parametrize(("alpha", "capacity"), [(0.9, 1_000), (1.2, 1_000)])
def test_lfu_under_irm_zipf_matches_the_static_top_c(alpha: float, capacity: int) -> None:
    simulated = _steady_hit_rate("lfu", alpha, capacity)
    predicted = top_c_hit_rate(zipf_popularity(ITEMS, alpha), capacity)
    assert abs(simulated - predicted) / predicted < 0.01, (simulated, predicted)


def test_che_on_uniform_popularity_is_the_fill_fraction() -> None:
    # Uniform p: every block has the same hit probability, the occupancy fraction C/N.
    p = np.full(1000, 1e-3)
    assert lru_hit_rate(p, 250) == pytest.approx(0.25, rel=1e-9)
    t_c = characteristic_time(p, 250)
    assert float(-np.expm1(-p * t_c).sum()) == pytest.approx(250, rel=1e-9)


def test_a_cache_holding_everything_hits_always() -> None:
    p = zipf_popularity(10, 1.0)
    assert lru_hit_rate(p, 10) == 1.0
    assert top_c_hit_rate(p, 10) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(items=st.integers(2, 5000), alpha=st.floats(0.0, 2.0), data=st.data())
def test_che_is_a_hit_rate_below_the_static_optimum_and_grows_with_the_cache(
        items: int, alpha: float, data: st.DataObject) -> None:
    p = zipf_popularity(items, alpha)
    small = data.draw(st.integers(1, items - 1))
    large = data.draw(st.integers(small, items))
    lru_small, lru_large = lru_hit_rate(p, small), lru_hit_rate(p, large)
    assert 0.0 < lru_small <= lru_large <= 1.0 + 1e-12
    assert lru_small <= top_c_hit_rate(p, small) + 1e-9

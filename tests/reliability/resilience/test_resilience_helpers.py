"""Backoff (full jitter), deadlines and the fallback chain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.reliability.resilience.backoff import BackoffConfig, backoff_ceiling_s, full_jitter_s
from mlfleet.reliability.resilience.deadline import DEADLINE_HEADER, Deadline
from mlfleet.reliability.resilience.fallback import (
    FallbackChain,
    FallbackReason,
    ResponseCache,
)


def test_ceiling_doubles_then_caps() -> None:
    got = backoff_ceiling_s([0, 1, 2, 3, 10, 5000], base_s=0.1, cap_s=0.5)
    assert got.tolist() == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]


@given(attempt=st.integers(0, 40), seed=st.integers(0, 2**32 - 1))
def test_full_jitter_is_within_zero_and_the_ceiling(attempt: int, seed: int) -> None:
    cfg = BackoffConfig(base_s=0.01, cap_s=2.0)
    wait_s = full_jitter_s(attempt, config=cfg, rng=np.random.default_rng(seed))
    assert 0.0 <= wait_s <= float(backoff_ceiling_s(attempt, base_s=0.01, cap_s=2.0))


def test_full_jitter_mean_is_half_the_ceiling() -> None:
    """Uniform(0, c) has mean c/2: 20,000 draws at attempt 3 land within 1 %."""
    rng, cfg = np.random.default_rng(1), BackoffConfig(base_s=0.01, cap_s=1.0)
    mean_s = np.mean([full_jitter_s(3, config=cfg, rng=rng) for _ in range(20_000)])
    assert abs(mean_s / 0.04 - 1) < 0.01


def test_deadline_propagates_what_is_left() -> None:
    deadline = Deadline.after(0.5, now_s=100.0)
    assert deadline.headers(100.2) == {DEADLINE_HEADER: "300.000"}
    assert deadline.attempt_timeout_s(100.2, per_try_timeout_s=0.1) == 0.1
    assert deadline.attempt_timeout_s(100.45, per_try_timeout_s=0.1) == pytest.approx(0.05)
    assert deadline.expired(100.5) and not deadline.expired(100.49)
    with pytest.raises(InputError, match=r"timeout_s\(=0\)"):
        Deadline.after(0, now_s=0)


def test_chain_skips_failing_tiers_and_counts() -> None:
    cache: ResponseCache[int, str] = ResponseCache(2)
    cache.put(1, "cached-1")

    def broken(key: int) -> str | None:
        raise RuntimeError("simpler model down too")

    chain: FallbackChain[int, str] = FallbackChain(
        [("small_model", broken), ("cache", cache.get), ("default", lambda k: "default")])
    first = chain.serve(1, FallbackReason.ERROR)
    second = chain.serve(2, FallbackReason.BREAKER_OPEN)
    assert (first.value, first.served_by) == ("cached-1", "cache")
    assert (second.value, second.served_by, second.reason) == (
        "default", "default", FallbackReason.BREAKER_OPEN)
    assert chain.counts[("cache", FallbackReason.ERROR)] == 1


def test_cache_evicts_least_recently_used() -> None:
    cache: ResponseCache[int, int] = ResponseCache(2)
    cache.put(1, 1)
    cache.put(2, 2)
    cache.get(1)
    cache.put(3, 3)
    assert (cache.get(1), cache.get(2), cache.get(3), len(cache)) == (1, None, 3, 2)


def test_chain_names_must_be_unique() -> None:
    with pytest.raises(InputError, match="unique"):
        FallbackChain([("primary", lambda k: 1)])

"""The tier simulation against its closed forms."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.storage.cache import CacheInputError, policy, replay
from mlfleet.storage.cache.tier_sim import TierLink, TierSimConfig, simulate
from mlfleet.storage.cache.traces import parse

FAST = TierLink(latency_s=100e-6, bw_bytes_per_s=2e9)
SLOW = TierLink(latency_s=20e-3, bw_bytes_per_s=100e6, usd_per_request=4e-7)


def config(**overrides: object) -> TierSimConfig:
    base = TierSimConfig(fast=FAST, slow=SLOW, cache_policy="lru", cache_blocks=500,
                         block_bytes=1e6, compute_s_per_block=5e-3)
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", ["zipf:items=3000,accesses=20000", "shuffle:items=2000"])
@pytest.mark.parametrize("name", ["lru", "lfu", "arc"])
def test_without_prefetch_time_is_the_sum_of_hit_and_miss_times(spec: str, name: str) -> None:
    cfg = config(cache_policy=name)
    blocks = parse(spec, seed=3).blocks
    result = simulate(cfg, blocks)
    hits = int(replay(policy(name, cfg.cache_blocks), blocks).sum())
    hit_s = FAST.latency_s + cfg.block_bytes / FAST.bw_bytes_per_s
    miss_s = SLOW.latency_s + cfg.block_bytes / SLOW.bw_bytes_per_s
    expected_s = hits * hit_s + (len(blocks) - hits) * miss_s + len(blocks) * 5e-3
    assert result.hits == hits
    assert result.time_s == pytest.approx(expected_s, rel=1e-9)
    assert result.slow_requests == len(blocks) - hits
    assert result.slow_request_usd == pytest.approx(result.slow_requests * 4e-7)
    assert result.bytes_saved == hits * cfg.block_bytes


def test_deep_read_ahead_on_a_sequential_scan_runs_at_the_slower_of_compute_and_bandwidth() -> None:
    blocks = parse("sequential:items=5000,epochs=1", seed=0).blocks
    for compute_s in (2e-3, 30e-3):  # bandwidth-bound (10 ms/block), then compute-bound
        result = simulate(config(prefetch_depth=16, compute_s_per_block=compute_s), blocks)
        hit_s = FAST.latency_s + 1e6 / FAST.bw_bytes_per_s
        bound_s = len(blocks) * max(compute_s + hit_s, 1e6 / SLOW.bw_bytes_per_s)
        assert result.time_s == pytest.approx(bound_s, rel=0.01)
        assert result.wasted_prefetches == 0


def test_read_ahead_on_a_shuffled_order_wastes_most_of_what_it_fetches() -> None:
    blocks = parse("shuffle:items=2000,epochs=1", seed=0).blocks
    result = simulate(config(prefetch_depth=8, cache_blocks=100), blocks)
    assert result.wasted_prefetches > 0.8 * result.slow_requests
    assert result.time_s > simulate(config(cache_blocks=100), blocks).time_s


def test_replay_is_reproducible() -> None:
    blocks = parse("zipf:items=1000,accesses=5000", seed=9).blocks
    assert simulate(config(prefetch_depth=4), blocks) == simulate(config(prefetch_depth=4), blocks)
    assert np.array_equal(blocks, parse("zipf:items=1000,accesses=5000", seed=9).blocks)


@settings(max_examples=60, deadline=None)
@given(trace=st.lists(st.integers(0, 30), min_size=1, max_size=200),
       name=st.sampled_from(["lru", "lfu", "arc"]), blocks=st.integers(1, 10),
       depth=st.integers(0, 6), compute_s=st.sampled_from([0.0, 1e-3, 50e-3]))
def test_replay_invariants(trace: list[int], name: str, blocks: int, depth: int,
                           compute_s: float) -> None:
    arr = np.asarray(trace, dtype=np.int64)
    result = simulate(config(cache_policy=name, cache_blocks=blocks, prefetch_depth=depth,
                             compute_s_per_block=compute_s), arr)
    assert result.accesses == len(trace)
    assert result.slow_requests >= len(set(trace))  # every block read was fetched once
    assert 0 <= result.wasted_prefetches <= result.slow_requests
    assert result.time_s >= len(trace) * compute_s - 1e-9
    assert result.stall_s <= result.time_s + 1e-9
    if depth == 0:
        assert result.wasted_prefetches == 0
        assert result.hits + result.slow_requests == len(trace)


def test_bad_tier_configuration_is_an_input_error() -> None:
    with pytest.raises(CacheInputError, match=r"bw_bytes_per_s\(=0"):
        TierLink(latency_s=0.0, bw_bytes_per_s=0.0)
    with pytest.raises(CacheInputError, match=r"prefetch_depth\(=-1"):
        config(prefetch_depth=-1)

"""Traces: shapes, seeds and spec errors."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.storage.cache import CacheInputError
from mlfleet.storage.cache.traces import parse


def test_sequential_and_shuffle_visit_every_block_once_per_epoch() -> None:
    for name in ("sequential", "shuffle"):
        blocks = parse(f"{name}:items=50,epochs=3", seed=1).blocks
        assert len(blocks) == 150
        for epoch in blocks.reshape(3, 50):
            assert sorted(epoch.tolist()) == list(range(50))


def test_same_seed_same_trace_other_seed_other_trace() -> None:
    a, b = parse("zipf:items=100,accesses=1000", seed=4), parse("zipf:items=100,accesses=1000",
                                                                  seed=4)
    assert np.array_equal(a.blocks, b.blocks)
    assert not np.array_equal(a.blocks, parse("zipf:items=100,accesses=1000", seed=5).blocks)


def test_zipf_frequencies_follow_the_popularity() -> None:
    trace = parse("zipf:items=50,alpha=1.0,accesses=200000", seed=2)
    assert trace.popularity is not None
    freq = np.bincount(trace.blocks, minlength=50) / len(trace.blocks)
    assert np.abs(freq - trace.popularity).max() < 0.005


def test_checkpoint_trace_writes_fresh_blocks_between_lookups() -> None:
    trace = parse("checkpoint:items=100,accesses=1000,every=500,shards=40", seed=1)
    assert len(trace.blocks) == 1000 + 2 * 40
    assert trace.distinct_blocks == 100 + 80


@pytest.mark.parametrize(("spec", "named"), [
    ("lognormal", "'lognormal'"), ("zipf:beta=1", "'beta'"), ("zipf:items=abc", "'abc'"),
    ("zipf:items=-3", "-3"), ("sequential:items=2.5", "2.5")])
def test_bad_specs_name_the_bad_part(spec: str, named: str) -> None:
    with pytest.raises(CacheInputError, match=named):
        parse(spec, seed=0)

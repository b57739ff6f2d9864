"""Bounded-memory statistics: exact counts and sums, batches as ``np.array_split``'s,
percentiles within the histogram's stated relative error of ``np.percentile``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlfleet.serving.sim.streaming_stats import BatchedSummary, LogBins, Summary

BINS = LogBins(low=1e-9, high=1e9, relative_error=1e-3)


def _waits(n: int, seed: int) -> np.ndarray:
    """Waits shaped as M/M/c's: about 30 % exact zeros, the rest exponential, plus a
    few far below ``low``."""
    rng = np.random.default_rng(seed)
    waits = rng.exponential(2.0, n) * (rng.random(n) > 0.3)
    waits[:5] = [1e-12, 3e-10, 0.0, 1e3, 5e-9]
    return waits


@pytest.mark.parametrize("seed", range(3))
def test_percentiles_are_within_the_stated_relative_error(seed: int) -> None:
    waits = _waits(50_001, seed)
    summary = Summary(bins=BINS)
    for part in np.array_split(waits, 7):
        summary.add(part)
    for q in (0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 100.0):
        exact = float(np.percentile(waits, q))
        got = summary.percentile(q)
        assert abs(got - exact) <= BINS.relative_error * (1 + 1e-9) * exact + BINS.low, q


def test_each_bin_centre_is_within_the_relative_error_of_its_values() -> None:
    values = np.geomspace(BINS.low, BINS.high, 200_001)[:-1]
    centres = np.array([BINS.centre(int(k)) for k in BINS.index(values)])
    assert np.max(np.abs(centres - values) / values) <= BINS.relative_error * (1 + 1e-9)
    assert BINS.index(np.array([0.0, -1.0, 1e-12, 1e10])).tolist() == [0, 0, 1, BINS.size - 1]


def test_mean_and_fraction_positive_are_exact() -> None:
    waits = _waits(10_000, 3)
    summary = Summary(bins=BINS)
    for part in np.array_split(waits, 13):
        summary.add(part)
    assert summary.count == len(waits)
    assert summary.fraction_positive() == np.count_nonzero(waits > 0) / len(waits)
    assert summary.mean() == pytest.approx(math.fsum(waits) / len(waits), rel=1e-15)


@pytest.mark.parametrize(("total", "batches", "chunk"), [(1000, 20, 7), (1003, 20, 64),
                                                         (41, 4, 100), (25, 5, 1)])
def test_batches_are_array_splits_consecutive_ranges(total: int, batches: int,
                                                     chunk: int) -> None:
    values = np.arange(1.0, total + 1.0)
    batched = BatchedSummary(total=total, batches=batches, bins=BINS)
    for low in range(0, total, chunk):
        batched.add(values[low:low + chunk])
    expected = np.array_split(values, batches)
    assert [p.count for p in batched.parts] == [len(e) for e in expected]
    assert [p.mean() for p in batched.parts] == [float(e.mean()) for e in expected]
    assert batched.pooled().count == total


def test_bins_refuse_an_empty_range() -> None:
    with pytest.raises(ValueError, match="0 < low < high"):
        LogBins(low=1.0, high=1.0)

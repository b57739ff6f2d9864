"""The VPA recommender against a hand computation on a known usage histogram."""

from __future__ import annotations

import pytest

from mlfleet.errors import InputError
from mlfleet.infra.autoscale.vpa import (
    DecayingHistogram,
    HistogramOptions,
    recommend,
)

# buckets with first 1, ratio 2: [0, 1), [1, 3), [3, 7), [7, 15), [15, 31) ...
DOUBLING = HistogramOptions(first_bucket_size=1.0, ratio=2.0, max_value=100.0)


def _known_histogram() -> DecayingHistogram:
    """50 samples at 0.5 (bucket [0, 1)), 44 at 2 ([1, 3)), 6 at 10 ([7, 15)), all at t = 0."""
    h = DecayingHistogram(options=DOUBLING)
    for value, count in ((0.5, 50), (2.0, 44), (10.0, 6)):
        for _ in range(count):
            h.add(value, at_s=0.0)
    return h


def test_bucket_starts_follow_the_exponential_rule() -> None:
    """start(i) = first · (ratio^i - 1)/(ratio - 1): 0, 1, 3, 7, 15 for first 1, ratio 2."""
    assert [DOUBLING.bucket_start(i) for i in range(5)] == [0.0, 1.0, 3.0, 7.0, 15.0]
    assert [DOUBLING.bucket_of(v) for v in (0.5, 1.0, 2.9, 3.0, 10.0)] == [0, 1, 1, 2, 3]


def test_percentiles_are_bucket_ends() -> None:
    """Total weight 100. p50: 50 >= 50 in bucket [0, 1) -> 1. p90: 50 < 90 <= 94 in
    [1, 3) -> 3. p95: 94 < 95 <= 100 in [7, 15) -> 15."""
    h = _known_histogram()
    assert (h.percentile(0.5), h.percentile(0.9), h.percentile(0.95)) == (1.0, 3.0, 15.0)


def test_recommendation_by_hand() -> None:
    """One day of history (confidence 1): target = 3 · 1.15 = 3.45; lower = 1 · 1.15 ·
    (1 + 0.001)^-2 = 1.14770...; upper = 15 · 1.15 · (1 + 1) = 34.5."""
    rec = recommend(_known_histogram(), history_days=1.0)
    assert rec.target == pytest.approx(3.45, rel=1e-12)
    assert rec.lower_bound == pytest.approx(1.15 / 1.001 ** 2, rel=1e-12)
    assert rec.upper_bound == pytest.approx(34.5, rel=1e-12)


def test_more_history_narrows_the_bounds() -> None:
    """Eight days: upper = 17.25 · (1 + 1/8) = 19.40625."""
    rec = recommend(_known_histogram(), history_days=8.0)
    assert rec.upper_bound == pytest.approx(17.25 * 1.125, rel=1e-12)


def test_a_sample_one_half_life_later_weighs_double() -> None:
    """0.5 at t = 0 (weight 1) and 10 at t = 24 h (weight 2): p50's threshold 1.5 passes
    bucket [0, 1) (1) and is reached in [7, 15) -> 15. Without decay (both at t = 0)
    the threshold 1 is reached in [0, 1) -> 1."""
    h = DecayingHistogram(options=DOUBLING)
    h.add(0.5, at_s=0.0)
    h.add(10.0, at_s=86400.0)
    assert h.percentile(0.5) == 15.0
    flat = DecayingHistogram(options=DOUBLING)
    flat.add(0.5, at_s=0.0)
    flat.add(10.0, at_s=0.0)
    assert flat.percentile(0.5) == 1.0


def test_the_minimum_applies_to_an_idle_pod() -> None:
    h = DecayingHistogram()
    h.add(0.0, at_s=0.0)
    assert recommend(h, history_days=1.0).target == 0.025


def test_negative_usage_is_refused() -> None:
    with pytest.raises(InputError):
        DecayingHistogram().add(-1.0, at_s=0.0)

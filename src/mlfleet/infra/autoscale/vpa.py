"""Kubernetes' Vertical Pod Autoscaler recommender: a decaying histogram of usage.

Source: the VPA design and code in kubernetes/autoscaler (vertical-pod-autoscaler,
"docs/design"/README "Recommender" and ``pkg/recommender/util/histogram.go``,
``decaying_histogram.go``, ``logic/recommender.go``, ``estimator.go``):

* usage samples go into a histogram with exponentially growing buckets: bucket i
  starts at ``first · (ratio^i − 1) / (ratio − 1)`` (CPU: first 0.01 cores, ratio
  1.05, up to 1000 cores);
* a sample's weight doubles every half-life (CPU: 24 h) after a reference time, so
  older usage counts less;
* a percentile is the *end* of the first bucket at which the cumulative weight
  reaches ``p ·`` total weight;
* target = p90 · (1 + 15 % safety margin), lower bound = p50 · 1.15, upper bound =
  p95 · 1.15; the bounds are widened by the history's confidence c (days of data):
  upper · (1 + 1/c), lower · (1 + 0.001/c)^−2; nothing is recommended below the
  minimum (25 millicores).

Modelled: one resource, samples weighted 1 (VPA weights CPU samples by the pod's
request; give ``weight=`` for that). Not modelled: memory's peak-per-interval
aggregation, OOM bumps, the updater's eviction rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mlfleet.checks import fraction, non_negative, positive
from mlfleet.errors import InputError

SAFETY_MARGIN = 0.15
"""``--recommendation-margin-fraction`` default."""
MIN_CPU_CORES = 0.025
"""``--pod-recommendation-min-cpu-millicores`` default (25m)."""


@dataclass(frozen=True, kw_only=True)
class HistogramOptions:
    """Exponential buckets (CPU defaults)."""

    first_bucket_size: float = 0.01
    ratio: float = 1.05
    max_value: float = 1000.0

    def __post_init__(self) -> None:
        positive("first_bucket_size", self.first_bucket_size)
        positive("max_value", self.max_value)
        if not (isinstance(self.ratio, int | float) and math.isfinite(self.ratio)
                and self.ratio > 1.0):
            raise InputError(f"ratio(={self.ratio!r}) must be a finite number > 1")

    @property
    def buckets(self) -> int:
        r = self.ratio
        return math.ceil(math.log(self.max_value * (r - 1) / self.first_bucket_size + 1)
                         / math.log(r)) + 1

    def bucket_start(self, i: int) -> float:
        return self.first_bucket_size * (self.ratio ** i - 1) / (self.ratio - 1)

    def bucket_of(self, value: float) -> int:
        if value < self.first_bucket_size:
            return 0
        i = int(math.log(value * (self.ratio - 1) / self.first_bucket_size + 1)
                / math.log(self.ratio))
        return min(i, self.buckets - 1)


@dataclass
class DecayingHistogram:
    """Bucketed usage with weights doubling every ``half_life_s`` after ``reference_s``."""

    options: HistogramOptions = field(default_factory=HistogramOptions)
    half_life_s: float = 86400.0
    reference_s: float = 0.0
    weights: dict[int, float] = field(default_factory=dict)

    def add(self, value: float, *, at_s: float, weight: float = 1.0) -> None:
        """One usage sample (``value`` >= 0) taken at ``at_s``."""
        non_negative("value", value)
        bucket = self.options.bucket_of(value)
        decayed = weight * 2.0 ** ((at_s - self.reference_s) / self.half_life_s)
        self.weights[bucket] = self.weights.get(bucket, 0.0) + decayed

    @property
    def total_weight(self) -> float:
        return sum(self.weights.values())

    def percentile(self, p: float) -> float:
        """The end of the bucket where the cumulative weight reaches p · total (VPA's rule);
        0 for an empty histogram."""
        fraction("p", p)
        if not self.weights:
            return 0.0
        threshold, cumulative = p * self.total_weight, 0.0
        last = max(self.weights)
        bucket = last
        for bucket in sorted(self.weights):
            cumulative += self.weights[bucket]
            if cumulative >= threshold:
                break
        if bucket < self.options.buckets - 1:
            return self.options.bucket_start(bucket + 1)
        return self.options.bucket_start(bucket)


@dataclass(frozen=True, kw_only=True)
class VpaRecommendation:
    """What the VPA object's status shows for one container resource."""

    lower_bound: float
    target: float
    upper_bound: float


def recommend(histogram: DecayingHistogram, *, history_days: float,
              margin: float = SAFETY_MARGIN, minimum: float = MIN_CPU_CORES) -> VpaRecommendation:
    """Target p90, bounds p50 and p95, each · (1 + margin), bounds widened by confidence."""
    positive("history_days", history_days)
    scale = 1.0 + non_negative("margin", margin)
    upper = histogram.percentile(0.95) * scale * (1.0 + 1.0 / history_days)
    lower = histogram.percentile(0.50) * scale * (1.0 + 0.001 / history_days) ** -2
    target = histogram.percentile(0.90) * scale
    return VpaRecommendation(lower_bound=max(lower, minimum), target=max(target, minimum),
                             upper_bound=max(upper, minimum))

"""Homogeneous Poisson arrivals: independent exponential gaps of mean 1/λ."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import positive
from mlfleet.serving.sim.arrivals.base import FloatArray, request_count


@dataclass(frozen=True, kw_only=True)
class PoissonArrivals:
    """Poisson process of rate ``rate_per_s``."""

    rate_per_s: float

    def __post_init__(self) -> None:
        positive("rate_per_s", self.rate_per_s)

    @property
    def mean_rate_per_s(self) -> float:
        return self.rate_per_s

    def times_s(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Cumulative sums of ``n`` exponential gaps."""
        gaps = rng.exponential(1.0 / self.rate_per_s, request_count(n))
        return np.cumsum(gaps)

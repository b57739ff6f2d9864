"""Bursty (or smooth) renewal arrivals: gamma-distributed gaps with a given CV.

Gaps ~ Gamma(shape k = 1/CV², scale = 1/(λk)): mean 1/λ, coefficient of variation CV.
CV = 1 is Poisson; CV = 2-4 resembles the burstiness of production LLM traces
(Vidur and DistServe evaluate with gamma arrivals for this reason).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import positive
from mlfleet.serving.sim.arrivals.base import FloatArray, request_count


@dataclass(frozen=True, kw_only=True)
class GammaArrivals:
    """Renewal process with Gamma gaps: mean rate ``rate_per_s``, gap CV ``cv``."""

    rate_per_s: float
    cv: float = 2.0
    """Coefficient of variation of the gaps (std / mean)."""

    def __post_init__(self) -> None:
        positive("rate_per_s", self.rate_per_s)
        positive("cv", self.cv)

    @property
    def mean_rate_per_s(self) -> float:
        return self.rate_per_s

    def times_s(self, n: int, rng: np.random.Generator) -> FloatArray:
        shape = 1.0 / (self.cv * self.cv)
        gaps = rng.gamma(shape, 1.0 / (self.rate_per_s * shape), request_count(n))
        return np.cumsum(gaps)

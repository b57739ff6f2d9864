"""Diurnal traffic: a non-homogeneous Poisson process with a sinusoidal rate, by thinning.

λ(t) = λ̄·(1 + A·sin(2π(t - φ)/T)). Thinning (Lewis & Shedler 1979, "Simulation of
nonhomogeneous Poisson processes by thinning"): draw a Poisson process at the peak rate
λ̄(1 + A) and keep a candidate at t with probability λ(t)/(λ̄(1 + A)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import finite, fraction, positive
from mlfleet.serving.sim.arrivals.base import FloatArray, request_count


@dataclass(frozen=True, kw_only=True)
class DiurnalArrivals:
    """Poisson arrivals whose rate swings ±``amplitude`` around ``mean_rate_per_s``."""

    mean_rate_per_s: float
    amplitude: float = 0.5
    """Relative swing in [0, 1): peak = mean·(1 + amplitude), trough = mean·(1 - amplitude)."""
    period_s: float = 86400.0
    phase_s: float = 0.0
    """Time at which the rate crosses its mean going up."""

    def __post_init__(self) -> None:
        positive("mean_rate_per_s", self.mean_rate_per_s)
        positive("period_s", self.period_s)
        fraction("amplitude", self.amplitude, open_high=True)
        finite("phase_s", self.phase_s)

    def rate_per_s(self, t_s: FloatArray) -> FloatArray:
        """λ(t) at each time."""
        return self.mean_rate_per_s * (1.0 + self.amplitude * np.sin(
            2.0 * np.pi * (np.asarray(t_s) - self.phase_s) / self.period_s))

    def times_s(self, n: int, rng: np.random.Generator) -> FloatArray:
        """The first ``n`` arrivals, thinned from candidates drawn in vectorised blocks."""
        n = request_count(n)
        peak = self.mean_rate_per_s * (1.0 + self.amplitude)
        kept: list[FloatArray] = []
        have, start = 0, 0.0
        while have < n:
            block = max(1024, int(1.2 * (n - have) * (1.0 + self.amplitude)))
            cand = start + np.cumsum(rng.exponential(1.0 / peak, block))
            keep = cand[rng.random(block) * peak < self.rate_per_s(cand)]
            kept.append(keep)
            have += keep.size
            start = float(cand[-1])
        return np.concatenate(kept)[:n]

"""Predictive scaling: yesterday's load at this time, provisioned ahead of a cold start.

Forecast: *seasonal naive* (Hyndman & Athanasopoulos, "Forecasting: Principles and
Practice", 3rd ed., §5.2): the rate in a bin is the rate observed one season (a day)
earlier in the same bin. Plan: at time t, enough replicas for the highest forecast rate
in [t, t + lead], each replica taking ``capacity_per_s · target_utilization``, so that
a replica ordered now is ready (after its cold start, which ``lead_s`` must cover)
before the load it is for arrives, and none is released while load it is needed for
is still ahead. This is the scheme of cloud "scheduled/predictive scaling" (e.g. AWS
EC2 Auto Scaling predictive scaling's ``SchedulingBufferTime``), reduced to its core.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, non_negative, positive, positive_int
from mlfleet.errors import InputError

FloatArray = npt.NDArray[np.float64]


def seasonal_naive(counts: npt.ArrayLike, *, season_bins: int, bin_s: float) -> FloatArray:
    """Forecast rate (1/s) of bin i = counts[i - season_bins] / bin_s; NaN for the first
    season (no history)."""
    c = np.asarray(counts, dtype=np.float64)
    out = np.full(c.size, np.nan)
    out[season_bins:] = c[:c.size - season_bins] / bin_s
    return out


def replicas_for(rate_per_s: npt.ArrayLike, *, capacity_per_s: float,
                 target_utilization: float) -> npt.NDArray[np.int64]:
    """ceil(λ / (μ_replica · target)): replicas keeping each at the target utilisation."""
    per_replica = capacity_per_s * target_utilization
    return np.ceil(np.asarray(rate_per_s, dtype=np.float64) / per_replica - 1e-9).astype(np.int64)


@dataclass(frozen=True, kw_only=True)
class PredictiveSpec:
    """What the planner needs: how far ahead, how full, within which bounds."""

    lead_s: float
    """How far ahead the plan looks; at least the cold start to be in time."""
    target_utilization: float
    capacity_per_s: float
    """Requests per second one replica completes when fully busy."""
    min_replicas: int = 1
    max_replicas: int = 1000

    def __post_init__(self) -> None:
        non_negative("lead_s", self.lead_s)
        fraction("target_utilization", self.target_utilization, open_low=True)
        positive("capacity_per_s", self.capacity_per_s)
        positive_int("min_replicas", self.min_replicas)
        positive_int("max_replicas", self.max_replicas)
        if self.min_replicas > self.max_replicas:
            raise InputError(f"min_replicas(={self.min_replicas}) must be <= "
                             f"max_replicas(={self.max_replicas})")


@dataclass(frozen=True, kw_only=True)
class PredictivePlanner:
    """Replicas wanted at any time from a per-bin rate forecast starting at ``start_s``."""

    spec: PredictiveSpec
    forecast_per_s: FloatArray
    start_s: float
    bin_s: float

    def desired(self, now_s: float) -> int:
        """Replicas for the highest forecast in [now, now + lead], within min/max."""
        first = int((now_s - self.start_s) // self.bin_s)
        last = int((now_s + self.spec.lead_s - self.start_s) // self.bin_s)
        window = self.forecast_per_s[max(first, 0):max(last + 1, 0)]
        window = window[np.isfinite(window)]
        if window.size == 0:
            return self.spec.min_replicas
        wanted = int(replicas_for(float(window.max()), capacity_per_s=self.spec.capacity_per_s,
                                  target_utilization=self.spec.target_utilization))
        return min(max(wanted, self.spec.min_replicas), self.spec.max_replicas)



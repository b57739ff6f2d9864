"""The predictive path's answer: a prediction interval, not a point.

Calibrated before a run, the simulator cannot know how fast the machine will run during
it; on a shared 2-vCPU VM that speed moves by 5-10 % between runs tens of seconds apart
(docs/serving-real.md), and p50/p99 at 60-90 % load amplify it. The interval propagates
that uncertainty:

1. **Speed.** The calibration runs' speed factors, fitted by a line in the offered rate
   (:class:`~mlfleet.serving.calibrate.service.LoadSlowdown`), give the usual regression
   prediction interval for a *new* run at rate λ (Montgomery, Peck & Vining,
   *Introduction to Linear Regression Analysis*, §2.4.2):
   ``k(λ) ± t·σ·sqrt(1 + 1/n + (λ - λ̄)²/Sxx)``, with ``σ`` the runs' scatter around the
   line (their drift, ``n - 2`` degrees of freedom), floored at the runs' own
   batch-means standard error. With two runs there is no scatter to measure; ``σ`` is
   then the standard error alone and ``t`` the normal 1.96 (an optimistic interval).
2. **Overhead.** Outside the batcher the calibration runs measured different overheads
   too (a lagging client on a loaded host): the low end takes, quantile by quantile, the
   least overhead any calibration run at the bracketing rates measured, the high end the
   most (:meth:`~mlfleet.serving.calibrate.spec.LoadCalibration.overhead_at`).
3. **Latency.** The simulator runs at the interval's two ends with the same random
   numbers (latency rises with the batch time and the overhead, so the ends map to
   ends), and each end is widened by where the sample quantile of ``n`` measured
   requests falls (the order statistics' binomial interval,
   :func:`~mlfleet.serving.calibrate.simulate.quantile_interval`).

Coverage is measured, not asserted (``benchmarks/bench_calibration_coverage.py``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.serving.calibrate.client import BatchingPolicy
from mlfleet.serving.calibrate.overhead import Overhead
from mlfleet.serving.calibrate.service import LoadSlowdown, ServiceTimeModel
from mlfleet.serving.calibrate.simulate import (
    SimPrediction,
    drawn,
    predict,
    quantile_interval,
)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class SpeedInterval:
    """The machine's speed factor expected for a new run at one rate."""

    center: float
    low: float
    high: float
    sd: float
    """Prediction standard deviation (before the t quantile)."""


def speed_interval(slowdown: LoadSlowdown, *, rates_rps: Sequence[float],
                   standard_errors: Sequence[float], rate_rps: float) -> SpeedInterval:
    """The 95 % prediction interval of the speed factor of a new run at ``rate_rps``
    (module docstring, step 1); ``rates_rps`` and ``standard_errors`` are the calibration
    runs' (their ``nan`` errors are skipped)."""
    from scipy.stats import t as student_t  # only here: keeps the package import light

    rates = np.asarray(rates_rps, dtype=np.float64)
    se = np.asarray([s for s in standard_errors if math.isfinite(s)], dtype=np.float64)
    floor = float(np.sqrt(np.mean(se**2))) if se.size else 0.0
    dof = rates.size - 2
    sigma = max(slowdown.drift_sd, floor) if dof > 0 else floor
    quantile = float(student_t.ppf(0.975, dof)) if dof > 0 else 1.96
    sxx = float(np.sum((rates - rates.mean()) ** 2))
    lever = 1.0 + 1.0 / rates.size + (rate_rps - rates.mean()) ** 2 / sxx
    sd = sigma * math.sqrt(lever)
    center = slowdown.at(rate_rps)
    return SpeedInterval(center=center, low=max(center - quantile * sd, 0.5),
                         high=center + quantile * sd, sd=sd)


@dataclass(frozen=True, kw_only=True)
class PredictionInterval:
    """Predicted p50/p99 of a run of ``requests`` arrivals: center and 95 % bounds."""

    center: SimPrediction
    speed: SpeedInterval
    p50_low_s: float
    p50_high_s: float
    p99_low_s: float
    p99_high_s: float

    def covers(self, *, p50_s: float, p99_s: float) -> tuple[bool, bool]:
        """Whether the measured p50 and p99 fall inside their intervals."""
        return (self.p50_low_s <= p50_s <= self.p50_high_s,
                self.p99_low_s <= p99_s <= self.p99_high_s)


def predict_interval(arrival_s: FloatArray, *, policy: BatchingPolicy,
                     service: ServiceTimeModel, speed: SpeedInterval,
                     overhead: tuple[Overhead, Overhead, Overhead], replications: int,
                     seed: int) -> PredictionInterval:
    """Simulate at the speed interval's center and ends (same seed), with the overhead
    (center, least, most) at each, and widen the ends by the sampling interval of the
    measured quantiles (module docstring, steps 2 and 3)."""
    def at(factor: float, extra: Overhead) -> SimPrediction:
        return predict(arrival_s, policy=policy, timing_of=drawn(service.scaled(factor)),
                       overhead=extra, replications=replications, seed=seed)

    center = at(speed.center, overhead[0])
    low, high = at(speed.low, overhead[1]), at(speed.high, overhead[2])
    n = arrival_s.size
    assert low.latency_s is not None and high.latency_s is not None
    return PredictionInterval(
        center=center, speed=speed,
        p50_low_s=quantile_interval(low.latency_s, n=n, q=0.5)[0],
        p50_high_s=quantile_interval(high.latency_s, n=n, q=0.5)[1],
        p99_low_s=quantile_interval(low.latency_s, n=n, q=0.99)[0],
        p99_high_s=quantile_interval(high.latency_s, n=n, q=0.99)[1])

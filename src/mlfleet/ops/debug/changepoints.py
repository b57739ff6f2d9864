"""Latency regressions as change points: a one-sided CUSUM on standardised log latency.

Page's CUSUM (Page, "Continuous inspection schemes", Biometrika 1954) on
``z_t = (ln x_t - μ0) / σ0``, with ``μ0`` and ``σ0`` the median and 1.4826 · MAD of the
first ``baseline`` values (robust: a regression inside the baseline moves them little)::

    S_t = max(0, S_{t-1} + min(z_t, c) - k)          alarm when S_t > h

``k`` is half the shift (in σ0) it is tuned to find fastest, ``h`` trades false alarms
for delay. After an alarm the change point is estimated as the last ``t`` with
``S_t = 0`` before it (the CUSUM's maximum-likelihood change time), and ``S`` restarts.
The average run length (samples until an alarm) for i.i.d. normal ``z`` with mean ``δ``
has Siegmund's approximation (Siegmund, *Sequential Analysis*, Springer 1985, p. 27;
Montgomery, *Introduction to Statistical Quality Control*, 6th ed., §9.1.4)::

    ARL(δ) ≈ (exp(-2Δb) + 2Δb - 1) / (2Δ²),   Δ = δ - k,  b = h + 1.166   (b² at Δ = 0)

which :func:`simulated_arl` checks. Real latency is not i.i.d. normal: a queue's window
means have a heavy right tail (skewness ≈ 0.5 in log space in the simulator) and σ0 from
a short baseline is uncertain, so Page's plain CUSUM (h = 5, 30-value baseline) alarmed
9.7 times per hour of 1 s windows with nothing changed, 2.5x the 3.9 the formula gives
(``tests/ops/debug/test_changepoints.py``). Hence the defaults: ``z`` winsorised at
``c = 2.5`` (one burst cannot fill ``S`` alone; Lucas & Crosier, "Robust CUSUM",
Commun. Stat. 1982), a 60-value baseline and ``h = 8``: 2.4 false alarms per hour there.
Feed it window aggregates (``--window``), not single requests, whose
waits are strongly autocorrelated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import positive, positive_int
from mlfleet.ops.debug.robust import median_sigma


@dataclass(frozen=True, kw_only=True)
class CusumConfig:
    """Parameters of :func:`cusum`."""

    k: float = 0.5
    """Reference value in σ0 (half the shift to detect fastest)."""
    h: float = 8.0
    """Decision threshold in σ0."""
    clip: float = 2.5
    """Each z is capped at this (math.inf: Page's plain CUSUM)."""
    baseline: int = 60
    """Leading values that define μ0 and σ0 (not judged)."""

    def __post_init__(self) -> None:
        positive("k", self.k)
        positive("h", self.h)
        positive("clip", self.clip, allow_inf=True)
        positive_int("baseline", self.baseline, minimum=3)


@dataclass(frozen=True, kw_only=True)
class ChangePoint:
    """One detected upward shift."""

    alarm_index: int
    """Index of the value at which ``S`` crossed ``h``."""
    change_index: int
    """Estimated first index of the shifted regime."""
    before: float
    """Median of the baseline before it (the series' unit)."""
    after: float
    """Median of the ``baseline`` values from the change on (the new normal)."""


def siegmund_arl(delta: float, *, k: float, h: float) -> float:
    """Siegmund's approximate average run length of the one-sided CUSUM (module docstring)."""
    d, b = delta - k, h + 1.166
    if abs(d) < 1e-9:  # the limit of the expression as Δ -> 0
        return b * b
    return (math.exp(-2 * d * b) + 2 * d * b - 1) / (2 * d * d)


def cusum(values: npt.ArrayLike, config: CusumConfig | None = None) -> list[ChangePoint]:
    """Upward change points of a positive series (see the module docstring).

    After an alarm the ``baseline`` values from the estimated change on become the new
    normal, so a lasting regression alarms once and a second one after it is found too.
    """
    config = config or CusumConfig()
    x = np.asarray(values, dtype=np.float64)
    logs = np.log(x)
    found: list[ChangePoint] = []
    start = 0
    while start + config.baseline < x.size:
        mu, sigma = median_sigma(logs[start:start + config.baseline])
        sigma = max(sigma, 1e-6)  # a constant baseline: any rise is a change
        level, last_zero = 0.0, start + config.baseline - 1
        for t in range(start + config.baseline, x.size):
            level = max(0.0, level + min((logs[t] - mu) / sigma, config.clip) - config.k)
            if level == 0.0:
                last_zero = t
            elif level > config.h:
                change = last_zero + 1
                after = x[change:change + config.baseline]
                found.append(ChangePoint(alarm_index=t, change_index=change,
                                         before=float(np.exp(mu)),
                                         after=float(np.median(after))))
                start = change
                break
        else:
            break
    return found


def simulated_arl(*, delta: float, k: float, h: float, runs: int,
                  rng: np.random.Generator, max_steps: int = 100_000) -> tuple[float, float]:
    """(mean run length, its standard error) of the one-sided CUSUM on N(δ, 1) draws,
    ``runs`` runs in parallel (runs still going at ``max_steps`` count as that length)."""
    level = np.zeros(runs)
    length = np.full(runs, max_steps, dtype=np.float64)
    alive = np.ones(runs, dtype=bool)
    for t in range(1, max_steps + 1):
        level = np.maximum(0.0, level + rng.normal(delta, 1.0, runs) - k)
        hit = alive & (level > h)
        length[hit] = t
        alive &= ~hit
        if not alive.any():
            break
    return float(length.mean()), float(length.std(ddof=1) / math.sqrt(runs))

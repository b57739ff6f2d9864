"""What continuous monitoring costs and buys under an alternative: the mSPRT's power and
stopping time against the fixed-horizon test sized for 80 % power.

The fixed-horizon z-test on N observations (unit variance each) detects δ = (z_{1-α/2} +
z_{0.8}) / sqrt(N) with 80 % power. The mSPRT (:mod:`mlfleet.ops.experiment.msprt`) watches
the same walks after every observation, up to ``max_factor`` · N, and stops at its first
rejection. Johari et al. (Operations Research, 2022, section 4) show the always-valid test
trades a longer worst case for early stops when the effect is large; this study puts numbers
on both for the effect the fixed test was designed for (and multiples of it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.ops.experiment.msprt import rejection_threshold, walk_log_lr

CHUNK_CELLS = 1_000_000
"""Walk steps drawn at once, so memory stays flat for any number of simulations."""


@dataclass(frozen=True, kw_only=True)
class SequentialPower:
    """Power and stopping time of the mSPRT under one alternative, beside the fixed test."""

    effect_in_mde: float
    """The true effect in units of the fixed-horizon test's 80 %-power effect δ."""
    horizon_n: int
    """N: the fixed-horizon test's sample size (observations)."""
    fixed_power: float
    """Simulated power of the z-test at N (0.80 at effect_in_mde = 1 by construction)."""
    msprt_power_at_horizon: float
    """Fraction of walks the mSPRT has stopped on by observation N."""
    msprt_power_at_max: float
    """... by observation max_factor · N."""
    max_factor: float
    mean_stop_in_horizons: float
    """E[min(stopping time, max_factor·N)] / N."""
    median_stop_in_horizons: float
    """Median stopping time / N over the walks that stopped (nan if none did)."""
    sims: int


def first_rejection(walks: np.ndarray, *, tau: float, alpha: float) -> np.ndarray:
    """The 1-based observation at which the mSPRT first rejects on each unit-variance walk
    (sims, steps), inf where it never does."""
    hit = walk_log_lr(walks, tau=tau) >= rejection_threshold(alpha)
    first = np.argmax(hit, axis=1).astype(np.float64) + 1
    return np.where(hit.any(axis=1), first, math.inf)


def msprt_under_alternative(*, effect_in_mde: float = 1.0, horizon_n: int = 200,
                            max_factor: float = 4.0, sims: int = 5000, seed: int = 0,
                            alpha: float = 0.05, tau_se: float | None = None) -> SequentialPower:
    """Simulate ``sims`` walks with drift ``effect_in_mde`` · δ per observation; the mSPRT
    (τ = ``tau_se`` standard errors of the estimate at N, default z_{1-α/2} + z_{0.8}, i.e.
    τ = δ) looks after every observation. Raises InputError for bad arguments."""
    fraction("alpha", alpha, open_low=True, open_high=True)
    horizon = positive_int("horizon_n", horizon_n)
    total = int(math.ceil(horizon * positive("max_factor", max_factor)))
    z_test = float(stats.norm.ppf(1 - alpha / 2))
    z_design = z_test + float(stats.norm.ppf(0.8))
    tau = positive("tau_se", z_design if tau_se is None else tau_se) / math.sqrt(horizon)
    drift = positive("effect_in_mde", effect_in_mde) * z_design / math.sqrt(horizon)
    rng = np.random.default_rng(positive_int("seed", seed, minimum=0))
    per_chunk = max(1, CHUNK_CELLS // total)
    stops, fixed = [], 0
    for done in range(0, positive_int("sims", sims), per_chunk):
        walks = np.cumsum(rng.standard_normal((min(per_chunk, sims - done), total)) + drift,
                          axis=1)
        fixed += int((np.abs(walks[:, horizon - 1]) >= z_test * math.sqrt(horizon)).sum())
        stops.append(first_rejection(walks, tau=tau, alpha=alpha))
    stop = np.concatenate(stops)
    stopped = stop[np.isfinite(stop)]
    return SequentialPower(
        effect_in_mde=effect_in_mde, horizon_n=horizon, fixed_power=fixed / sims,
        msprt_power_at_horizon=float(np.mean(stop <= horizon)),
        msprt_power_at_max=float(np.mean(np.isfinite(stop))), max_factor=max_factor,
        mean_stop_in_horizons=float(np.mean(np.minimum(stop, total))) / horizon,
        median_stop_in_horizons=float(np.median(stopped)) / horizon if stopped.size else math.nan,
        sims=sims)

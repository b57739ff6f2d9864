"""Synthetic runs with planted faults of known answer, to measure the detectors' precision
and recall over many seeds (the real runs give one answer each; these give the rates).

* :func:`straggler_trial` — step compute times of ``ranks`` ranks: a base time with
  lognormal jitter, one-step hiccups on random rank-steps (a shared host descheduling a
  process: *not* stragglers), and ``slow_ranks`` ranks slowed by a factor in
  ``slow_factor_range`` from a random onset step on (the planted stragglers).
* :func:`training_trial` — one rank's loss (exponential decay to a floor) and gradient
  norm with multiplicative noise, with spikes (both series scaled by a factor in
  ``spike_factor_range``) and NaNs planted at random steps after ``warmup``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.ops.debug.gradients import GradientConfig, series_anomalies
from mlfleet.ops.debug.scoring import Score, score
from mlfleet.ops.debug.stragglers import StragglerConfig, detect_stragglers


@dataclass(frozen=True, kw_only=True)
class StragglerTrial:
    """Parameters of one synthetic straggler trial."""

    ranks: int = 16
    steps: int = 200
    step_s: float = 0.1
    jitter_sigma: float = 0.05
    """Lognormal σ of every rank-step's time."""
    hiccup_rate: float = 0.01
    """Probability a rank-step is delayed 2-5x (transient, not a straggler)."""
    slow_ranks: int = 2
    slow_factor_range: tuple[float, float] = (1.3, 3.0)


def straggler_trial(rng: np.random.Generator, trial: StragglerTrial) -> tuple[
        npt.NDArray[np.float64], set[int]]:
    """(times (ranks, steps), the planted slow ranks)."""
    shape = (trial.ranks, trial.steps)
    times = trial.step_s * rng.lognormal(0.0, trial.jitter_sigma, shape)
    hiccups = rng.random(shape) < trial.hiccup_rate
    times[hiccups] *= rng.uniform(2.0, 5.0, int(hiccups.sum()))
    slow = rng.choice(trial.ranks, size=trial.slow_ranks, replace=False)
    for rank in slow:
        onset = int(rng.integers(0, trial.steps // 2))
        times[rank, onset:] *= rng.uniform(*trial.slow_factor_range)
    return times, {int(r) for r in slow}


def straggler_score(seeds: range, trial: StragglerTrial,
                    config: StragglerConfig | None = None) -> Score:
    """Precision/recall counts of :func:`detect_stragglers` over ``seeds`` (rank level)."""
    total = Score()
    for seed in seeds:
        times, planted = straggler_trial(np.random.default_rng([seed, 0x57A6]), trial)
        found = detect_stragglers(times, ranks=list(range(trial.ranks)),
                                  steps=list(range(1, trial.steps + 1)), config=config)
        total += score((s.rank for s in found), planted)
    return total


@dataclass(frozen=True, kw_only=True)
class TrainingTrial:
    """Parameters of one synthetic training series."""

    steps: int = 300
    noise_sigma: float = 0.05
    """Lognormal σ of the loss; the gradient norm's is twice it."""
    spikes: int = 3
    nans: int = 1
    spike_factor_range: tuple[float, float] = (3.0, 10.0)
    warmup: int = 30
    """No fault before this step (the detector's history fills)."""


def training_trial(rng: np.random.Generator, trial: TrainingTrial) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.float64], set[int]]:
    """(loss, grad_norm, planted steps) of one rank; steps are 1-based."""
    t = np.arange(trial.steps)
    loss = (2.0 * np.exp(-t / 60) + 0.5) * rng.lognormal(0, trial.noise_sigma, trial.steps)
    norm = (1.0 * np.exp(-t / 120) + 0.2) * rng.lognormal(0, 2 * trial.noise_sigma,
                                                          trial.steps)
    where = rng.choice(np.arange(trial.warmup, trial.steps), size=trial.spikes + trial.nans,
                       replace=False)
    for i in where[:trial.spikes]:
        factor = rng.uniform(*trial.spike_factor_range)
        loss[i] *= factor
        norm[i] *= factor
    norm[where[trial.spikes:]] = np.nan
    return loss, norm, {int(i) + 1 for i in where}


def gradient_score(seeds: range, trial: TrainingTrial,
                   config: GradientConfig | None = None) -> Score:
    """Precision/recall counts of the gradient detector over ``seeds`` (step level)."""
    total = Score()
    steps = list(range(1, trial.steps + 1))
    for seed in seeds:
        loss, norm, planted = training_trial(np.random.default_rng([seed, 0x6AAD]), trial)
        found = {a.step for series, x in (("loss", loss), ("grad_norm", norm))
                 for a in series_anomalies(list(x), steps=steps, rank=0, series=series,
                                           config=config)}
        total += score(found, planted)
    return total

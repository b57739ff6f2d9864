"""Gradient anomalies: precision and recall on synthetic training series with planted faults.

Each trial: one rank, 300 steps, loss decaying to a floor and a gradient norm with lognormal
noise; 3 spikes (both series scaled by a factor from the range) and 1 NaN gradient planted at
random steps after step 30. Step-level precision and recall over 200 seeds (800 planted).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlfleet.ops.debug.gradients import robust_rolling_z, series_anomalies
from mlfleet.ops.debug.synthetic import TrainingTrial, gradient_score

SEEDS = range(200)


@pytest.mark.parametrize(("noise", "factors", "min_precision", "min_recall"), [
    (0.05, (3.0, 10.0), 0.99, 1.0),    # observed P 0.998 (2 false of 802), R 1.000
    (0.05, (2.0, 3.0), 0.99, 0.99),    # observed P 0.997, R 0.994
    (0.05, (1.5, 2.0), 0.99, 0.85),    # observed P 0.997, R 0.871
    (0.10, (3.0, 10.0), 0.98, 1.0),    # observed P 0.988, R 1.000
])
def test_precision_and_recall_over_seeds(noise: float, factors: tuple[float, float],
                                         min_precision: float, min_recall: float) -> None:
    got = gradient_score(SEEDS, TrainingTrial(noise_sigma=noise, spike_factor_range=factors))
    assert got.tp + got.fn == 4 * len(SEEDS)
    assert got.precision >= min_precision and got.recall >= min_recall, got


def test_no_fault_planted_almost_no_alarm() -> None:
    got = gradient_score(SEEDS, TrainingTrial(spikes=0, nans=0))
    assert got.fp <= 4  # of 120 000 judged values


def test_nan_and_inf_are_always_anomalies_even_before_the_history_fills() -> None:
    found = series_anomalies([1.0, math.nan, 2.0, math.inf], steps=[1, 2, 3, 4], rank=0,
                             series="grad_norm")
    assert [(a.step, a.kind) for a in found] == [(2, "nonfinite"), (4, "nonfinite")]


def test_the_baseline_follows_a_trend_and_ignores_the_spike_it_judges() -> None:
    x = np.exp(-np.arange(100) / 20.0) + 0.1  # a steep, noiseless decay
    x[60] *= 5
    z = robust_rolling_z(x, window=20, min_history=8, log_mad_floor=0.02)
    assert z[60] > 6 and np.nanmax(np.delete(z, 60)) < 6

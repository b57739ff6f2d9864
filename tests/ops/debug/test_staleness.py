"""Staleness: the error-vs-age line against least-squares fits on a simulated drifting
stream, and the retrain interval against a brute-force search."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlfleet.ops.debug.staleness import (
    DriftingStream,
    expected_mse,
    fit_decay,
    retrain_plan,
    simulate_decay,
)

AGES = np.array([0, 10, 30, 60, 100])


@pytest.mark.parametrize("stream", [DriftingStream(),
                                    DriftingStream(dims=4, drift_sd_per_unit=0.1,
                                                   train_samples=50)])
def test_decay_line_matches_the_simulated_stream(stream: DriftingStream) -> None:
    sim = simulate_decay(stream, ages=AGES, trials=1000, rng=np.random.default_rng(0))
    # observed (defaults): within 0.3 % at every age
    assert sim == pytest.approx(expected_mse(stream, AGES), rel=0.02)


def test_fit_recovers_fresh_error_and_slope() -> None:
    stream = DriftingStream()
    ages = np.arange(0, 60, 5)
    sim = simulate_decay(stream, ages=ages, trials=500, rng=np.random.default_rng(1))
    fresh, slope = fit_decay(ages, sim)
    assert slope == pytest.approx(stream.dims * stream.drift_sd_per_unit**2, rel=0.05)
    assert fresh == pytest.approx(float(expected_mse(stream, 0)), rel=0.02)


def test_retrain_interval_is_the_brute_force_minimum() -> None:
    plan = retrain_plan(fresh_mse=1.0, slope_mse_per_unit=0.02, retrain_cost_usd=100,
                        error_cost_usd=1000)
    grid = np.linspace(0.5, 20, 4000)
    cost = 100 / grid + 1000 * 0.02 * grid / 2
    assert plan.interval_units == pytest.approx(grid[np.argmin(cost)], abs=0.01)
    assert plan.cost_usd_per_unit == pytest.approx(cost.min(), rel=1e-4)


def test_no_decay_means_never_retrain() -> None:
    plan = retrain_plan(fresh_mse=1.0, slope_mse_per_unit=0.0, retrain_cost_usd=1,
                        error_cost_usd=1)
    assert math.isinf(plan.interval_units)

"""Straggler detection: precision and recall on synthetic runs with planted slow ranks.

Each trial: 16 ranks x 200 steps, lognormal jitter, 1% (or 5%) of rank-steps hit by a
2-5x hiccup (not stragglers), 2 ranks slowed by a factor drawn from the range from a random
onset in the first half. Rank-level precision and recall over 100 seeds; the table in
docs/operations-debug.md is these numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.ops.debug.stragglers import StragglerConfig, detect_stragglers, robust_z
from mlfleet.ops.debug.synthetic import StragglerTrial, straggler_score

SEEDS = range(100)


@pytest.mark.parametrize(("jitter", "factors", "hiccups", "min_precision", "min_recall"), [
    (0.05, (1.3, 3.0), 0.01, 1.0, 1.0),     # observed P 1.000, R 1.000
    (0.05, (1.2, 1.5), 0.05, 1.0, 1.0),     # observed P 1.000, R 1.000
    (0.10, (1.2, 1.5), 0.05, 0.99, 0.65),   # observed P 1.000, R 0.710
    (0.05, (1.1, 1.2), 0.05, 0.99, 0.30),   # observed P 1.000, R 0.340
])
def test_precision_and_recall_over_seeds(jitter: float, factors: tuple[float, float],
                                         hiccups: float, min_precision: float,
                                         min_recall: float) -> None:
    got = straggler_score(SEEDS, StragglerTrial(jitter_sigma=jitter, slow_factor_range=factors,
                                                hiccup_rate=hiccups))
    assert got.tp + got.fn == 2 * len(SEEDS)
    assert got.precision >= min_precision and got.recall >= min_recall, got


def test_no_straggler_planted_no_alarm_over_seeds() -> None:
    got = straggler_score(SEEDS, StragglerTrial(slow_ranks=0, hiccup_rate=0.05))
    assert got.fp == 0


def test_onset_step_is_found_within_the_window() -> None:
    rng = np.random.default_rng(1)
    times = 0.1 * rng.lognormal(0, 0.05, (8, 100))
    times[5, 40:] *= 2.0
    found = detect_stragglers(times, ranks=list(range(8)), steps=list(range(1, 101)))
    assert [(s.rank, s.first_step) for s in found] == [(5, 41)]
    assert found[0].slowdown == pytest.approx(2.0, rel=0.1)


def test_two_ranks_cannot_name_a_straggler() -> None:
    times = np.vstack([np.full(50, 0.1), np.full(50, 0.3)])
    assert detect_stragglers(times, ranks=[0, 1], steps=list(range(50))) == []


@given(st.integers(3, 32), st.floats(0.01, 10.0))
def test_robust_z_does_not_depend_on_the_time_unit(ranks: int, scale: float) -> None:
    times = np.random.default_rng(ranks).lognormal(0, 0.1, (ranks, 20))
    assert np.allclose(robust_z(times * scale), robust_z(times))


def test_config_is_checked() -> None:
    from mlfleet.errors import InputError

    with pytest.raises(InputError, match="persist_fraction"):
        StragglerConfig(persist_fraction=0.0)

"""Stragglers in simulation: the step time against order statistics (with and without
slow ranks and backup workers), what each detector catches, and SSP on the kernel
(s = 0 is exactly the synchronous step; s = inf each worker's own pace).

Observed (docs/reliability-goodput.md quotes these): without slow ranks the simulated
mean step is within 0.2 % of ``base + jitter (H_{N+b} - H_b)``; with slow ranks within
0.5 % of the quadrature of the order statistic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.reliability.sim.ssp import simulate_ssp
from mlfleet.reliability.sim.stale_sgd import LeastSquares, updates_to_target
from mlfleet.reliability.sim.straggler_detection import Detectors, Score, flags, score
from mlfleet.reliability.sim.stragglers import (
    StepTimeModel,
    expected_step_no_slow_s,
    expected_step_s,
    simulate_slow_states,
    simulate_step_times,
    step_times,
)
from mlfleet.sim import Simulation


def batch_ci(values: np.ndarray, batches: int = 20) -> float:
    usable = len(values) // batches * batches
    means = values[:usable].reshape(batches, -1).mean(axis=1)
    return 1.96 * float(np.std(means, ddof=1)) / math.sqrt(batches)


@pytest.mark.parametrize(("ranks", "backups"), [(1, 0), (8, 0), (64, 0), (64, 4), (16, 2)])
def test_step_without_slow_ranks_is_the_exponential_order_statistic(ranks: int,
                                                                    backups: int) -> None:
    model = StepTimeModel(ranks=ranks, base_s=0.1, jitter_s=0.01)
    times, _ = simulate_step_times(model, steps=40_000, backups=backups,
                                   rng=np.random.default_rng(ranks + backups))
    steps = step_times(times, needed=ranks)
    exact = expected_step_no_slow_s(base_s=0.1, jitter_s=0.01, ranks=ranks, backups=backups)
    assert abs(steps.mean() - exact) < 3 * batch_ci(steps)
    assert abs(steps.mean() / exact - 1) < 0.002
    assert expected_step_s(model, backups=backups) == pytest.approx(exact, rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("backups", [0, 2, 4])
def test_step_with_slow_ranks_matches_the_quadrature(backups: int) -> None:
    model = StepTimeModel(ranks=16, slow_prob=0.004, factor=3.0, persistence_steps=10)
    times, _ = simulate_step_times(model, steps=100_000, backups=backups,
                                   rng=np.random.default_rng(7))
    steps = step_times(times, needed=16)
    exact = expected_step_s(model, backups=backups)
    assert abs(steps.mean() - exact) < 3 * batch_ci(steps)
    assert abs(steps.mean() / exact - 1) < 0.005


def test_slow_spells_have_the_stationary_share_and_transition_rates() -> None:
    model = StepTimeModel(ranks=4, slow_prob=0.05, factor=2.0, persistence_steps=8)
    slow = simulate_slow_states(model, steps=100_000, ranks=4, rng=np.random.default_rng(1))
    assert abs(slow.mean() / model.slow_share - 1) < 0.03
    prev, nxt = slow[:-1].ravel(), slow[1:].ravel()
    assert abs(np.mean(nxt[~prev]) - 0.05) < 0.003
    assert abs(np.mean(~nxt[prev]) - 1 / 8) < 0.006


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(0, 4), st.integers(0, 2**31))
def test_backups_never_slow_a_step(ranks: int, backups: int, seed: int) -> None:
    """The N-th fastest of N + b ranks is never later than the slowest of the first N."""
    model = StepTimeModel(ranks=ranks, slow_prob=0.1, factor=4.0, persistence_steps=3)
    times, _ = simulate_step_times(model, steps=50, backups=backups,
                                   rng=np.random.default_rng(seed))
    with_backups = step_times(times, needed=ranks)
    assert np.all(with_backups <= times[:, :ranks].max(axis=1))


def detect(factor: float, *, seed: int = 1) -> dict[str, Score]:
    model = StepTimeModel(ranks=64, slow_prob=0.001, factor=factor, persistence_steps=50)
    times, slow = simulate_step_times(model, steps=10_000, rng=np.random.default_rng(seed))
    det = Detectors(timeout_s=2 * (model.base_s + model.jitter_s))
    return {name: score(f, slow, window=det.window) for name, f in flags(times, det).items()}


def test_a_hard_straggler_is_caught_by_timeout_at_once_a_mild_one_by_relative_progress() -> None:
    hard, mild = detect(3.0), detect(1.3)
    t_hard, t_mild = hard["timeout"], mild["timeout"]
    r_mild = mild["relative_progress"]
    assert t_hard.caught == t_hard.spells and t_hard.mean_delay_steps == 0
    assert t_mild.caught < 0.1 * t_mild.spells
    assert r_mild.caught > 0.5 * r_mild.spells
    # several slow ranks at once inflate the spread the z-score is measured against
    assert hard["variance"].caught < hard["relative_progress"].caught


def test_without_stragglers_the_z_score_raises_the_most_false_alarms() -> None:
    """A window mean of exponentials is skewed: its 4-sigma tail over 64 ranks is hit
    (0.24 per 1,000 rank-steps here, seed 2); the timeout and the ratio never fire."""
    model = StepTimeModel(ranks=64)
    times, slow = simulate_step_times(model, steps=5_000, rng=np.random.default_rng(2))
    det = Detectors(timeout_s=2 * (model.base_s + model.jitter_s))
    result = {k: score(f, slow, window=det.window) for k, f in flags(times, det).items()}
    assert all(r.spells == 0 for r in result.values())
    assert result["timeout"].false_per_1000_rank_steps < 0.05
    assert result["relative_progress"].false_per_1000_rank_steps < 0.05
    assert 0 < result["variance"].false_per_1000_rank_steps < 1


def ssp_times(model: StepTimeModel, steps: int, seed: int) -> np.ndarray:
    times, _ = simulate_step_times(model, steps=steps,
                                   rng=Simulation(seed=seed).stream("step_times"))
    return times


def test_ssp_zero_is_synchronous_and_inf_is_each_workers_own_pace() -> None:
    model = StepTimeModel(ranks=8, slow_prob=0.01, factor=3.0, persistence_steps=10)
    times = ssp_times(model, 500, seed=4)
    bsp = simulate_ssp(model, steps=500, staleness=0, seed=4)
    assert math.isclose(bsp.wall_s, times.max(axis=1).sum(), rel_tol=1e-12)
    assert bsp.mean_staleness == 0
    free = simulate_ssp(model, steps=500, staleness=math.inf, seed=4)
    assert math.isclose(free.wall_s, times.sum(axis=0).max(), rel_tol=1e-12)
    assert free.blocked_share == 0


def test_more_staleness_never_slows_the_job() -> None:
    model = StepTimeModel(ranks=8, slow_prob=0.01, factor=3.0, persistence_steps=10)
    walls = [simulate_ssp(model, steps=300, staleness=s, seed=5).wall_s
             for s in (0, 1, 2, 4, 8, math.inf)]
    assert all(a >= b - 1e-9 for a, b in zip(walls, walls[1:], strict=False))


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"ranks": 0}, "ranks(=0)"), ({"ranks": 4, "persistence_steps": 0.5}, "persistence_steps"),
    ({"ranks": 4, "slow_prob": 1.5}, "slow_prob(=1.5)"), ({"ranks": 4, "factor": 0}, "factor"),
])
def test_bad_models_name_the_value(kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        StepTimeModel(**kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_bad_staleness_names_the_value() -> None:
    with pytest.raises(InputError, match=r"staleness\(=-1\)"):
        simulate_ssp(StepTimeModel(ranks=2), steps=3, staleness=-1, seed=0)


def mean_updates(lr: float, delays: np.ndarray) -> float:
    """Mean updates to 1 % excess loss over 4 seeded problems (inf if one fails)."""
    got = [updates_to_target(LeastSquares(lr=lr), delays, seed=k) for k in range(4)]
    return math.inf if None in got else float(np.mean([g for g in got if g is not None]))


@pytest.mark.slow
def test_staleness_costs_updates_only_when_lr_times_delay_is_large() -> None:
    """Measured on the toy (16 ranks, 600 steps of the SSP run, seed 0): at lr 0.01
    the stale runs need no more updates than BSP (224 / 217 / 208 for s = 0 / 4 / inf);
    at lr 0.08 staleness costs 2-4x more (50 / 120 / 204); at lr 0.12 all diverge."""
    model = StepTimeModel(ranks=16, slow_prob=0.002, factor=3.0, persistence_steps=20)
    runs = {s: simulate_ssp(model, steps=600, staleness=s, seed=0) for s in (0, 4, math.inf)}
    small = {s: mean_updates(0.01, r.delays) for s, r in runs.items()}
    large = {s: mean_updates(0.08, r.delays) for s, r in runs.items()}
    assert max(small.values()) <= 1.1 * min(small.values())
    assert large[0] < large[4] < large[math.inf] < math.inf
    assert large[math.inf] > 2 * large[0]
    assert mean_updates(0.12, runs[0].delays) == math.inf


def test_without_delays_stale_sgd_is_plain_sgd_and_converges() -> None:
    zero = np.zeros(2000, dtype=np.int64)
    assert updates_to_target(LeastSquares(lr=0.05), zero, seed=0) is not None
    assert updates_to_target(LeastSquares(lr=0.05), zero[:5], seed=0) is None

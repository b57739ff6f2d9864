"""The goodput simulation reproduces Daly (FGCS 2006) where his assumptions hold.

* eq. 20: in the exponential regime the mean simulated wall time over seeds agrees with
  Daly's expected wall time within 1 %, with a 95 % CI well inside 1 %;
* Daly's published optima (solve 500 h, restart 10 min, checkpoint 5 min; MTBF 24 h /
  6 h / 15 min -> 117 / 57 / 9.1 min) by his formula, and by locating the minimum of
  the simulated wall time (common random numbers, parabola in ln tau, bootstrap CI).

Observed (seed 0; docs/reliability-goodput.md quotes these): ratios 0.9998 +- 0.0014,
1.0002 +- 0.0015, 1.0017 +- 0.0041; optima 117.7 (115.5-120.2), 56.4 (55.8-57.0),
9.10 (8.97-9.27) min.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.reliability.checkpoint_interval import daly_expected_wall_s, daly_interval_s
from mlfleet.reliability.sim.failure_process import Exponential
from mlfleet.reliability.sim.job import JobSpec
from mlfleet.reliability.sim.optimum import locate_optimum, parabola_vertex
from mlfleet.reliability.sim.policies import CheckpointPolicy
from mlfleet.reliability.sim.replications import replicate

H, MIN = 3600.0, 60.0
DALY_POINTS = [(24 * H, 117.0), (6 * H, 57.0), (15 * MIN, 9.1)]
"""(MTBF, Daly's published optimum interval in minutes), FGCS 22(3) 2006."""


def daly_job(*, mtbf_s: float, interval_s: float, solve_s: float = 500 * H) -> JobSpec:
    return JobSpec(solve_s=solve_s, failures=Exponential(mtbf_s=mtbf_s), restart_s=10 * MIN,
                   checkpoint=CheckpointPolicy(interval_s=interval_s, cost_s=5 * MIN))


@pytest.mark.parametrize(("mtbf_s", "published_min"), DALY_POINTS)
def test_daly_formula_gives_the_published_intervals(mtbf_s: float,
                                                    published_min: float) -> None:
    interval_min = daly_interval_s(ckpt_s=5 * MIN, mtbf_s=mtbf_s) / MIN
    digits = 0 if published_min > 10 else 1  # Daly prints 117, 57 and 9.1
    assert round(interval_min, digits) == published_min


@pytest.mark.slow
@pytest.mark.parametrize(("mtbf_s", "interval_s", "solve_s", "runs"), [
    (24 * H, 125 * MIN, 500 * H, 300),  # 240 whole segments
    (6 * H, 60 * MIN, 500 * H, 300),    # 500
    (15 * MIN, 10 * MIN, 100 * H, 300),  # 600; ~5 failures per hour of work
])
def test_simulated_wall_time_agrees_with_daly_eq20_within_1_percent(
        mtbf_s: float, interval_s: float, solve_s: float, runs: int) -> None:
    spec = daly_job(mtbf_s=mtbf_s, interval_s=interval_s, solve_s=solve_s)
    study = replicate(spec, runs=runs, seed=0)
    assert study.daly.exact_regime and study.daly.segments == round(study.daly.segments)
    assert study.daly.ratio_ci95 < 0.005  # the CI is well inside 1 %
    assert abs(study.daly.ratio - 1) < 0.01
    expected_s = daly_expected_wall_s(solve_s=solve_s, interval_s=interval_s, ckpt_s=5 * MIN,
                                      restart_s=10 * MIN, mtbf_s=mtbf_s)
    assert study.daly.daly_wall_s == expected_s


def test_the_ln_tau_parabola_finds_eq20s_own_minimum_within_a_tenth_of_a_minute() -> None:
    """The optimum-locating method, applied to the exact curve: its bias."""
    for mtbf_s, _ in DALY_POINTS:
        taus = np.geomspace(1 * MIN, 600 * MIN, 200_000)
        wall = [daly_expected_wall_s(solve_s=1.0, interval_s=float(t), ckpt_s=5 * MIN,
                                     restart_s=10 * MIN, mtbf_s=mtbf_s) for t in taus[::50]]
        true_min_s = float(taus[::50][int(np.argmin(wall))])
        guess_s = daly_interval_s(ckpt_s=5 * MIN, mtbf_s=mtbf_s)
        grid = np.geomspace(0.7 * guess_s, 1.4 * guess_s, 9)
        y = np.array([daly_expected_wall_s(solve_s=1.0, interval_s=float(t), ckpt_s=5 * MIN,
                                           restart_s=10 * MIN, mtbf_s=mtbf_s) for t in grid])
        assert abs(parabola_vertex(grid, y) - true_min_s) < 0.15 * MIN


@pytest.mark.slow
@pytest.mark.parametrize(("mtbf_s", "published_min", "solve_s"), [
    (24 * H, 117.0, 500 * H), (6 * H, 57.0, 500 * H), (15 * MIN, 9.1, 20 * H)])
def test_simulated_optimum_reproduces_dalys_published_interval_to_the_minute(
        mtbf_s: float, published_min: float, solve_s: float) -> None:
    guess_s = daly_interval_s(ckpt_s=5 * MIN, mtbf_s=mtbf_s)
    grid = list(np.geomspace(0.7 * guess_s, 1.4 * guess_s, 9))
    spec = daly_job(mtbf_s=mtbf_s, interval_s=guess_s, solve_s=solve_s)
    optimum = locate_optimum(spec, grid, runs=200, seed=0)
    assert abs(optimum.interval_s / MIN - published_min) < 1.0
    # what the same fit finds on eq. 20 itself (the method's own bias included) lies
    # inside the bootstrap CI
    exact = [daly_expected_wall_s(solve_s=solve_s, interval_s=t, ckpt_s=5 * MIN,
                                  restart_s=10 * MIN, mtbf_s=mtbf_s) for t in grid]
    assert optimum.low_s <= parabola_vertex(np.asarray(grid), np.asarray(exact)) <= optimum.high_s


@pytest.mark.slow
def test_where_simulation_and_daly_part_weibull_and_bursts() -> None:
    """Same MTBF (6 h), Daly's interval: failures that cluster (Weibull shape 0.7, the
    low end of Schroeder & Gibson's 0.7-0.8; bursts of follow-up failures) cost *less*
    wall time than Poisson ones, because a failure soon after a failure finds little
    uncheckpointed work; shape 1.5 (wear-out) costs more. Observed (seed 0, 300 runs):
    0.9912 +- 0.0018, 0.9867 +- 0.0016 and 1.0040 +- 0.0012 of Daly's eq. 20
    (bench_goodput_sim.py at 250 runs: 0.9915, 0.9866, 1.0042)."""
    from mlfleet.reliability.sim.failure_process import Burst, Weibull

    tau = daly_interval_s(ckpt_s=5 * MIN, mtbf_s=6 * H)
    base = daly_job(mtbf_s=6 * H, interval_s=tau)
    ratios = {}
    for name, process in (("k0.7", Weibull(mtbf_s=6 * H, shape=0.7)),
                          ("burst", Burst(mtbf_s=6 * H, switch_prob=0.1, nodes=4)),
                          ("k1.5", Weibull(mtbf_s=6 * H, shape=1.5))):
        study = replicate(JobSpec(solve_s=base.solve_s, checkpoint=base.checkpoint,
                                  restart_s=base.restart_s, failures=process), runs=300)
        ratios[name] = (study.daly.ratio, study.daly.ratio_ci95)
    assert ratios["k0.7"][0] + ratios["k0.7"][1] < 1
    assert ratios["burst"][0] + ratios["burst"][1] < 1
    assert ratios["k1.5"][0] - ratios["k1.5"][1] > 1

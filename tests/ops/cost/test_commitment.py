"""Reserved for the floor, on-demand or spot for the rest.

Validation: the reserved count is the exact optimum of the cost over every whole count of
reserved GPUs (brute force, the exact reference), and the plan's cost matches that
optimum's cost to float round-off. The spot overhead the plan prices (Daly's expected wall
time per unit of work, from the infrastructure chapter) is checked against the chapter's
Monte-Carlo simulation of a checkpointing job under Poisson preemptions, at the ``commit``
command's defaults (2 min checkpoint, 5 min restart, catalog spot terms).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlfleet.infra.tco.cloud import spot_job
from mlfleet.infra.tco.hybrid import demand_profile
from mlfleet.infra.tco.offers import spot_terms
from mlfleet.infra.tco.spot_sim import simulate_spot_jobs
from mlfleet.ops.cost.commitment import commitment_plan

OD, RES = 4.096, 2.4025  # aws-p4d on-demand and 1-year reserved, per GPU-hour


def brute_force_cost(firm: np.ndarray, x: float) -> float:
    return RES * x * firm.size + OD * float(np.maximum(firm - x, 0).sum())


@pytest.mark.parametrize("amplitude", [0.0, 0.3, 0.6, 0.9])
def test_reserved_count_is_the_brute_force_optimum(amplitude: float) -> None:
    firm = np.round(demand_profile(mean_gpus=48, amplitude=amplitude, hours=168))
    plan = commitment_plan(firm, on_demand_usd_per_gpu_h=OD, reserved_usd_per_gpu_h=RES)
    costs = {x: brute_force_cost(firm, x) for x in range(int(firm.max()) + 1)}
    best = min(costs.values())
    assert plan.total_usd == pytest.approx(best, rel=1e-12)
    assert costs[int(plan.reserved_gpus)] == pytest.approx(best, rel=1e-12)
    if amplitude == 0.0:
        assert plan.reserved_gpus == 48 and plan.on_demand_gpu_h == 0


def test_preemptible_work_fills_idle_reserved_then_spot() -> None:
    firm = np.array([10.0] * 18 + [2.0] * 6)  # above 2 GPUs 75% > u* = 59% of the time
    pre = np.array([0.0] * 18 + [12.0] * 6)
    job = spot_job(on_demand_usd_per_gpu_h=OD, discount=0.6, interruption_per_month=0.05,
                   gpus=8, gpus_per_instance=8, ckpt_s=120, restart_s=300)
    plan = commitment_plan(firm, preemptible_gpus=pre, on_demand_usd_per_gpu_h=OD,
                           reserved_usd_per_gpu_h=RES, spot=job)
    x = plan.reserved_gpus
    assert x == 10.0
    assert plan.spot_gpu_h == pytest.approx(6 * (12 - (x - 2)))  # 8 fill idle reserved
    assert plan.spot_usd_per_useful_gpu_h == pytest.approx(job.usd_per_useful_gpu_h)
    assert job.usd_per_useful_gpu_h < OD
    assert plan.saving_usd > 0


def test_no_spot_when_it_costs_more_than_on_demand() -> None:
    job = spot_job(on_demand_usd_per_gpu_h=OD, discount=0.01, interruption_per_month=0.5,
                   gpus=512, gpus_per_instance=8, ckpt_s=600, restart_s=1800)
    assert job.usd_per_useful_gpu_h > OD or math.isinf(job.usd_per_useful_gpu_h)
    plan = commitment_plan(np.zeros(4), preemptible_gpus=np.full(4, 8.0),
                           on_demand_usd_per_gpu_h=OD, reserved_usd_per_gpu_h=RES, spot=job)
    assert plan.spot_gpu_h == 0 and plan.on_demand_gpu_h == 32


@pytest.mark.parametrize("gpus", [8, 512])
def test_spot_overhead_matches_the_simulation(gpus: int) -> None:
    terms = spot_terms()
    job = spot_job(on_demand_usd_per_gpu_h=OD, discount=terms.discount,
                   interruption_per_month=terms.interruption_per_month, gpus=gpus,
                   gpus_per_instance=8, ckpt_s=120, restart_s=300)
    solve_s = 20 * job.interval_s
    sim = simulate_spot_jobs(solve_s=solve_s, interval_s=job.interval_s, ckpt_s=120,
                             restart_s=300, rate_per_s=job.preemptions_per_s, jobs=2000, seed=1)
    measured, se = sim.mean_wall_s / solve_s, sim.stderr_wall_s / solve_s
    print(f"{gpus} GPUs: wall per work model {job.wall_per_work:.5f}, simulated "
          f"{measured:.5f} +- {se:.5f} ({(job.wall_per_work / measured - 1):+.3%})")
    assert abs(job.wall_per_work - measured) < 4 * se

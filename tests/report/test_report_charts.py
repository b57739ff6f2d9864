"""Each chapter's chart agrees with the plan it illustrates and with the models it draws.

Observed on the default scenario (Llama 3 405B on 16,384 H100s), seed 1:
* collectives: the report's data-parallel topology gives the plan's AllReduce time exactly
  (relative difference 0);
* checkpoint: Daly's optimum (the plan's interval, 173.5 s) against the numerical maximum
  of Daly's goodput: interval off by 6e-8 (relative), goodput by 2e-16;
* cache: Che's closed form against the simulated LRU on the same Zipf trace (10,000 blocks,
  α 0.9, 40,000 accesses): largest difference 0.010 in hit rate (at 50 % of the blocks).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from mlfleet.comm.select import allreduce_times, crossover
from mlfleet.infra.roofline import Device
from mlfleet.infra.scheduling.run import run_cluster
from mlfleet.infra.scheduling.workload import load_workload
from mlfleet.plan import build_plan
from mlfleet.plan.compose import Plan
from mlfleet.reliability.checkpoint_policy import safe_goodput
from mlfleet.report.plots import cache, checkpoint, collectives, roofline, scheduling, serving_load
from mlfleet.report.plots.chart import Series
from mlfleet.scenario import Scenario, default_scenario_path, load_scenario

CHE_VS_LRU_BOUND = 0.02
"""Largest |Che - simulated LRU| hit-rate difference allowed (observed: 0.010)."""


@pytest.fixture(scope="module")
def default() -> tuple[Scenario, Plan]:
    scenario = load_scenario(default_scenario_path())
    return scenario, build_plan(scenario)


def by_name(series: tuple[Series, ...], name: str) -> Series:
    return next(s for s in series if s.name == name)


def test_roofline_points_are_the_plan_and_the_roof(default: tuple[Scenario, Plan]) -> None:
    scenario, plan = default
    chart = roofline.chart(scenario, plan)
    device = Device.from_accelerator("H100-SXM", "bf16")
    training = plan.results.infrastructure.training
    assert training is not None
    (marker,) = chart.markers
    assert marker.x == training.arithmetic_intensity_flop_per_byte
    assert marker.y == pytest.approx(training.mfu_with_comm * device.peak_flops_per_s)
    decode = by_name(chart.series, "decode b=1,8,64")
    # Pope et al. 2022: a bf16 decode step at batch 1 does ~2 FLOP per 2-byte weight
    assert decode.x[0] == pytest.approx(1.0, rel=0.05)
    for series in (decode, by_name(chart.series, "prefill b=1,8,64")):
        roof = np.minimum(device.peak_flops_per_s, np.asarray(series.x) * device.mem_bw_bytes_per_s)
        np.testing.assert_allclose(series.y, roof, rtol=1e-12)


def test_the_kernel_models_roof_lies_under_the_peak_roof(default: tuple[Scenario, Plan]) -> None:
    scenario, plan = default
    chart = roofline.chart(scenario, plan)
    peak, achievable = (by_name(chart.series, n) for n in ("roofline (peak)",
                                                          "achievable (kernel model)"))
    assert all(a < p for a, p in zip(achievable.y, peak.y, strict=True))
    assert roofline.kernel_model_or_none("no-such-chip", "bf16") is None  # peak roof alone


def test_collectives_use_the_plans_topology(default: tuple[Scenario, Plan]) -> None:
    scenario, plan = default
    comm = plan.results.communication
    assert comm is not None
    topo = collectives._topology(scenario, plan)
    assert topo is not None and topo.ranks == comm.data_parallel.gpus
    chosen = comm.data_parallel.allreduce
    drawn = allreduce_times(topo, comm.data_parallel.gradient_bytes)[chosen.algorithm]
    assert float(drawn) == chosen.time_s
    chart = collectives.chart(scenario, plan)
    assert chart is not None and [r.label for r in chart.refs] == ["→ rabenseifner", "→ ring"]


def test_the_winner_between_crossovers_is_the_lowest_line(default: tuple[Scenario, Plan]) -> None:
    scenario, plan = default
    chart, topo = collectives.chart(scenario, plan), collectives._topology(scenario, plan)
    assert chart is not None and topo is not None
    ranges = crossover(topo, min_bytes=collectives.SIZE_RANGE_BYTES[0],
                       max_bytes=collectives.SIZE_RANGE_BYTES[1]).ranges
    assert [r.value for r in chart.refs] == [r.from_bytes for r in ranges[1:]]
    sizes = np.asarray(chart.series[0].x)
    for r in ranges:
        inside = (sizes > r.from_bytes * 1.1) & (sizes < r.to_bytes / 1.1)
        lowest = np.min([np.asarray(s.y)[inside] for s in chart.series], axis=0)
        # within the selector's 2 % tie tolerance (ties go to the preferred algorithm)
        assert np.all(np.asarray(by_name(chart.series, r.algorithm).y)[inside] <= lowest * 1.02)


def test_checkpoint_marker_is_daly_optimum_on_the_curve(default: tuple[Scenario, Plan]) -> None:
    _, plan = default
    rel = plan.results.reliability
    assert rel is not None
    chart = checkpoint.chart(plan)
    assert chart is not None
    (marker,) = chart.markers
    assert marker.x == pytest.approx(rel.interval_s / 60) and marker.y == rel.goodput

    def waste(t: float) -> float:
        return -safe_goodput(interval_s=t, ckpt_s=rel.ckpt_write_s,
                             restart_s=rel.failure_cost_s, mtbf_s=rel.mtbf_s)

    best = minimize_scalar(waste, bounds=(rel.interval_s / 10, rel.interval_s * 10),
                           method="bounded", options={"xatol": 1e-6})
    assert abs(rel.interval_s - best.x) / best.x < 1e-6  # observed 6e-8
    assert -best.fun - rel.goodput < 1e-12  # observed 2e-16
    assert max(chart.series[0].y) <= rel.goodput + 1e-12


def test_che_tracks_the_simulated_lru() -> None:
    chart = cache.chart(seed=1)
    lru, che = by_name(chart.series, "LRU (simulated)"), by_name(chart.series, "LRU, Che closed form")
    error = np.max(np.abs(np.asarray(lru.y) - np.asarray(che.y)))
    assert error <= CHE_VS_LRU_BOUND, error
    for series in chart.series:
        assert list(series.y) == sorted(series.y)  # a larger cache never hits less here


def test_serving_latency_grows_with_load_and_p99_bounds_p50(default: tuple[Scenario, Plan]) -> None:
    scenario, _ = default
    chart = serving_load.chart(scenario, seed=1)
    p50, p99 = (by_name(chart.series, n).y for n in ("p50", "p99"))
    assert all(a <= b for a, b in zip(p50, p99, strict=True))
    assert p99[-1] > 3 * p99[0]  # past saturation the queue grows
    assert [r.label for r in chart.refs] == ["stand-in SLO p99 10 s (scenario sets none)"]
    assert serving_load.chart(scenario, seed=1) == chart  # seeded: the same chart


@pytest.mark.slow  # six engine runs of 160 jobs (about 1.5 s on a quiet machine)
def test_scheduling_cdfs_hold_every_job_and_the_engines_means() -> None:
    chart = scheduling.chart()
    workload = load_workload(scheduling.WORKLOAD)
    for series in chart.series:
        assert len(series.x) == len(workload.specs) and series.y[-1] == 1.0
    sjf = run_cluster(workload, policy="sjf").result.metrics
    assert np.mean(by_name(chart.series, "sjf").x) == pytest.approx(sjf.avg_jct_s / 3600)

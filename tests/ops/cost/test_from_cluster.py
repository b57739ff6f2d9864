"""Chargeback from a real cluster simulation: the bill agrees with the simulator's own metrics.

Validation: the idle fraction of the chargeback equals ``1 - gpu_utilisation`` that the
simulator reports (exact identity, observed error < 1e-12), and the teams' GPU-hours sum
to the GPU-seconds the jobs held.
"""

from __future__ import annotations

from functools import cache

import pytest

from mlfleet.infra.scheduling.run import ClusterRun, run_cluster
from mlfleet.infra.scheduling.workload import load_workload
from mlfleet.ops.cost.chargeback import chargeback
from mlfleet.ops.cost.cli_options import example
from mlfleet.ops.cost.from_cluster import cluster_usage
from mlfleet.ops.cost.resources import OPENCOST_DEFAULTS, Resource


@cache
def simulated(policy: str) -> ClusterRun:
    return run_cluster(load_workload(str(example("teams-trace.csv"))), policy=policy)


@pytest.mark.parametrize("policy", ["fifo", "tiresias"])
def test_idle_fraction_is_one_minus_the_simulators_utilisation(policy: str) -> None:
    run = simulated(policy)
    m = run.result.metrics
    usage = cluster_usage(run.result.records, cluster_gpus=run.nodes * run.gpus_per_node,
                          makespan_s=m.makespan_s)
    cb = chargeback(usage.allocations, rates=OPENCOST_DEFAULTS, capacity=usage.capacity)
    assert cb.breakdown.idle_fraction == pytest.approx(1.0 - m.gpu_utilisation, abs=1e-12)
    assert usage.unfinished_jobs == 0
    held_gpu_h = sum(r.gpu_s for r in run.result.records) / 3600
    assert sum(a.unit_hours(Resource.GPU) for a in usage.allocations) \
        == pytest.approx(held_gpu_h, rel=1e-12)
    assert {c.tenant for c in cb.charges} == {"vision", "llm", "recsys"}
    assert cb.charged_usd == pytest.approx(cb.breakdown.total_usd, rel=1e-12)


def test_team_bills_follow_their_gpu_hours() -> None:
    run = simulated("fifo")
    usage = cluster_usage(run.result.records, cluster_gpus=run.nodes * run.gpus_per_node,
                          makespan_s=run.result.metrics.makespan_s)
    cb = chargeback(usage.allocations, rates=OPENCOST_DEFAULTS, capacity=usage.capacity)
    gpu_h: dict[str, float] = {}
    for r in run.result.records:
        gpu_h[r.team] = gpu_h.get(r.team, 0.0) + r.gpu_s / 3600
    for c in cb.charges:
        assert c.workload_usd == pytest.approx(gpu_h[c.tenant] * 0.95, rel=1e-12)

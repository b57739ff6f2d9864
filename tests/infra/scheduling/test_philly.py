"""The Philly trace reader: all 82,247 jobs, relative submit times, durations."""

from __future__ import annotations

import pytest

from mlfleet.infra.scheduling.run import run_cluster, sized_nodes
from mlfleet.infra.scheduling.workload import Workload, load_workload


@pytest.fixture(scope="module")
def philly() -> Workload:
    return load_workload("philly")


def test_reads_every_job(philly: Workload) -> None:
    assert philly.kind == "philly" and len(philly.specs) == 82_247
    assert min(s.submit_s for s in philly.specs) == 0.0
    assert all(s.gpus >= 1 and (s.duration_s or 0) > 0 for s in philly.specs)
    assert philly.max_gpus == 128
    # 108.9 days of submissions; gpu_time = duration x num_gpus in the file
    assert max(s.submit_s for s in philly.specs) / 86400 == pytest.approx(108.9, abs=0.05)


def test_cluster_sized_for_load_and_the_largest_job(philly: Workload) -> None:
    nodes = sized_nodes(philly.specs, gpus_per_node=8)
    # 374 busy GPUs on average over the span, at load 0.7 -> 535 GPUs -> 67 nodes of 8
    assert nodes == 67
    assert sized_nodes(philly.specs[:5], gpus_per_node=8) >= 1


def test_replay_of_the_first_jobs_finishes_them_all(philly: Workload) -> None:
    """The first 3,000 submissions on a cluster sized for them, under Tiresias (the
    full replay is timed in benchmarks/bench_cluster_sim.py)."""
    first = Workload(name="philly-head", kind="philly",
                     specs=tuple(sorted(philly.specs, key=lambda s: s.submit_s)[:3000]))
    run = run_cluster(first, policy="tiresias", gpus_per_node=8)
    assert run.result.metrics.finished == 3000
    assert run.nodes * 8 >= first.max_gpus
    assert 0.0 < run.result.metrics.gpu_utilisation <= 1.0
    for record in run.result.records:
        assert record.jct_s is not None and record.isolated_s is not None
        assert record.jct_s >= record.isolated_s  # never faster than alone, packed

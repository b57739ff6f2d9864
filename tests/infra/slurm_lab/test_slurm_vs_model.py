"""A real slurmctld (one slurmd per lab host) against the model: start times of a mixed
workload of 52 sleep jobs, read back with sacct.

Serial tier: these time a real scheduler. Needs root; without Slurm/MariaDB installed
they skip locally and fail under CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from slurm_lab_support import NOTHING, leftovers, namespace_inodes, require_slurm, state_dirs

from mlfleet.infra.slurm_lab import cluster
from mlfleet.infra.slurm_lab.compare import (
    mixed_config,
    mixed_workload,
    run_comparison,
)

__all__ = ["state_dirs"]
pytestmark = [pytest.mark.root, pytest.mark.serial, pytest.mark.slow]

SEED = 19
"""The workload of docs/scheduling-slurm.md's first table (52 jobs, 13 of them queued,
5 preempted)."""


def test_mixed_workload_starts_match_sacct(state_dirs: Path) -> None:
    require_slurm()
    jobs = mixed_workload(seed=SEED)
    assert len(jobs) >= 50 and {j.partition for j in jobs} == {"batch", "urgent"}
    assert len({(j.nodes, j.gpus_per_node) for j in jobs}) >= 4
    config = mixed_config()
    state = cluster.up(config=config, hosts=config.nodes, accounting=True)
    inodes = namespace_inodes(state.namespaces)
    try:
        result = run_comparison(state, jobs, config)
    finally:
        cluster.teardown(state)
    assert leftovers(state.root, state.namespaces, inodes) == NOTHING
    table = "\n".join(f"{r.name} predicted {r.predicted_start_s:7.2f} sacct "
                      f"{r.measured_start_s:6.1f} error {r.error_s:+.2f} {r.measured_state}"
                      for r in result.rows)
    # The target is every job within 2 s. Real runs of this workload gave 52/52
    # (max 0.75 s and 0.91 s) three times and 51/52 once (j49 +3.70 s, every other job
    # within 0.95 s): a job end and a submission a fraction of a second apart decide which
    # job gets a node, and that order is not predictable. So this asserts what holds on
    # every run seen -- at least 90 % of the jobs within 2 s, the typical job within one
    # sacct tick (sacct truncates to whole seconds and a measured start is taken at the
    # middle of its second, so a perfect prediction is off by up to 0.5 s plus the launch
    # latency: one 52/52 run had a median of 0.56 s), no order inversion -- and
    # docs/scheduling-slurm.md reports the all-jobs figure of each run.
    errors = sorted(abs(r.error_s) for r in result.rows)
    within = sum(e <= 2.0 for e in errors)
    assert within >= 0.9 * len(errors), f"{within}/{len(errors)} within 2 s\n{table}"
    assert errors[len(errors) // 2] <= 1.0, table
    assert result.order_inversions == [], table
    assert {r.name for r in result.rows if r.predicted_preempted} == \
        {r.name for r in result.rows if r.measured_state == "PREEMPTED"}, table

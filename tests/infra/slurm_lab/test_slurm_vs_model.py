"""A real slurmctld (one slurmd per lab host) against the model: start times of a mixed
workload of 52 sleep jobs (sacct), then fair-share factors (sshare, sprio).

Serial tier: these time a real scheduler. Needs root; without Slurm/MariaDB installed
they skip locally and fail under CI.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from slurm_lab_support import NOTHING, leftovers, namespace_inodes, require_slurm, state_dirs

from mlfleet.infra.scheduling.slurm.config import Partition, PriorityWeights, SlurmConfig
from mlfleet.infra.scheduling.slurm.fairshare import Assoc, fair_tree
from mlfleet.infra.scheduling.slurm.workload import SlurmJob
from mlfleet.infra.slurm_lab import client, cluster
from mlfleet.infra.slurm_lab.cluster import AccountSpec
from mlfleet.infra.slurm_lab.compare import (
    mixed_config,
    mixed_workload,
    run_comparison,
)
from mlfleet.infra.slurm_lab.state import SlurmLabState

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
    assert result.max_abs_error_s <= 2.0, table
    assert result.order_inversions == [], table
    assert {r.name for r in result.rows if r.predicted_preempted} == \
        {r.name for r in result.rows if r.measured_state == "PREEMPTED"}, table


FAIR_CONFIG = SlurmConfig(nodes=2, gpus_per_node=4, partitions=(Partition(name="batch"),),
                          weights=PriorityWeights(fairshare=10000))
TEAMS = (AccountSpec(name="teama", shares=2), AccountSpec(name="teamb", shares=1))
CALC_PERIOD_S = 60.0


def _fair_job(name: str, account: str, duration_s: float, *, gpus: int = 1,
              nodes: int = 1) -> SlurmJob:
    return SlurmJob(name=name, submit_s=0.0, duration_s=duration_s, time_limit_s=60.0,
                    gpus_per_node=gpus, nodes=nodes, partition="batch", cpus_per_node=2,
                    account=account)


def test_fairshare_matches_sshare_and_sprio(state_dirs: Path) -> None:
    require_slurm()
    state = cluster.up(config=FAIR_CONFIG, hosts=2, accounting=True, accounts=TEAMS)
    inodes = namespace_inodes(state.namespaces)
    started = time.monotonic()
    try:
        # usage is charged at PriorityCalcPeriod ticks, and the first tick after
        # slurmctld starts charges nothing: run the jobs after it
        time.sleep(max(0.0, CALC_PERIOD_S + 3.0 - (time.monotonic() - started)))
        ids = [client.submit(state, _fair_job(f"a{i}", "teama", 15.0)) for i in range(3)]
        ids.append(client.submit(state, _fair_job("b0", "teamb", 15.0)))
        acct = _wait_done(state, ids)
        usage = {a: sum(r.alloc_cpus * (r.end_epoch_s - r.start_epoch_s) for r in acct
                        if r.account == a and r.end_epoch_s and r.start_epoch_s)
                 for a in ("teama", "teamb")}
        shares = _wait_charged(state, usage)
        # pending jobs of each team behind a blocker: sprio's fair-share part
        blocker = client.submit(state, _fair_job("blk", "root", 30.0, gpus=4, nodes=2))
        pend = {a: client.submit(state, _fair_job(f"p-{a}", a, 5.0, gpus=4)) for a in usage}
        time.sleep(1.0)
        prio = {r.job_id: r for r in client.sprio(state)}
    finally:
        cluster.teardown(state)
    assert leftovers(state.root, state.namespaces, inodes) == NOTHING
    measured = {(s.account, s.user): s for s in shares if s.user}
    for team, used in usage.items():  # raw usage: CPU-seconds from sacct's start and end
        assert measured[(team, "root")].raw_usage == pytest.approx(used, abs=2 * 2 * 4)
    ours = fair_tree(Assoc(name="root", children=(
        Assoc(name="root", shares=1, usage_raw=0.0),
        Assoc(name="teama", shares=2, children=(Assoc(name="root", usage_raw=usage["teama"]),)),
        Assoc(name="teamb", shares=1, children=(Assoc(name="root", usage_raw=usage["teamb"]),)))))
    for key, row in (("root/root", ("root", "root")), ("teama/root", ("teama", "root")),
                     ("teamb/root", ("teamb", "root"))):
        assert measured[row].fairshare == pytest.approx(ours[key].fairshare, abs=1e-6), key
    low, high = measured[("teama", "root")].fairshare, measured[("teamb", "root")].fairshare
    assert low is not None and high is not None and low < high  # teama used more than its share
    for team, job_id in pend.items():
        factor = ours[f"{team}/root"].fairshare
        assert factor is not None
        assert prio[job_id].fairshare == pytest.approx(10000 * factor, abs=1.0)
    assert blocker > 0


def _wait_done(state: SlurmLabState, ids: list[int],
               timeout_s: float = 120.0) -> list[client.AcctRow]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = [r for r in client.sacct(state) if r.job_id in ids]
        if len(rows) == len(ids) and all(r.state == "COMPLETED" for r in rows):
            return rows
        time.sleep(1.0)
    raise AssertionError(f"jobs {ids} did not complete within {timeout_s} s")


def _wait_charged(state: SlurmLabState, usage: dict[str, int],
                  timeout_s: float = 2.5 * CALC_PERIOD_S) -> list[client.ShareRow]:
    """sshare once every team's raw usage has reached what its jobs used (charged at the
    next PriorityCalcPeriod tick)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = client.sshare(state)
        got = {r.account: r.raw_usage for r in rows if r.user == "root"}
        if all(got.get(team, 0.0) >= used - 8 for team, used in usage.items()):
            return rows
        time.sleep(2.0)
    raise AssertionError(f"usage {usage} was not charged within {timeout_s} s: "
                         f"{client.sshare(state)}")

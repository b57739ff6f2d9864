"""Run a workload of sleep jobs on the lab's Slurm and compare ``sacct`` with the model.

Every job is submitted with ``sbatch`` at its submission time (relative to a start a
few seconds ahead); the model (:func:`mlfleet.infra.scheduling.slurm.predict.predict`) predicts
each start from the same config, and the comparison gives per-job errors and the pairs
of jobs started in the opposite order.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mlfleet.errors import RunError
from mlfleet.infra.scheduling.slurm.config import Partition, PriorityWeights, SlurmConfig
from mlfleet.infra.scheduling.slurm.predict import PredictedJob, Timing, predict
from mlfleet.infra.scheduling.slurm.workload import SlurmJob
from mlfleet.infra.slurm_lab import client
from mlfleet.infra.slurm_lab.state import SlurmLabState

LEAD_S = 2.0
"""Seconds between the call and the workload's time 0."""
DONE = {"COMPLETED", "CANCELLED", "PREEMPTED", "FAILED", "TIMEOUT", "NODE_FAIL"}


def mixed_config(*, hosts: int = 4, gpus_per_host: int = 4) -> SlurmConfig:
    """The comparison's cluster: two partitions over every node, ``urgent`` above ``batch``
    (whose jobs it may cancel), priorities from job size (large first, Slurm's default)
    and partition."""
    return SlurmConfig(
        nodes=hosts, gpus_per_node=gpus_per_host, cpus_per_node=8,
        partitions=(Partition(name="batch", priority_tier=1, priority_job_factor=1,
                              preempt_mode="cancel"),
                    Partition(name="urgent", priority_tier=2, priority_job_factor=2)),
        weights=PriorityWeights(job_size=1000, partition=1000, favor_small=False),
        bf_interval_s=1.0, sched_interval_s=60.0)


SLOT_S = 10.0
"""Arrivals come in bursts at the middle of 10-second slots."""


def mixed_workload(*, jobs: int = 52, seed: int = 0, hosts: int = 4,
                   gpus_per_host: int = 4) -> list[SlurmJob]:
    """A seeded mix: a burst of 1-4 arrivals at the middle of each 10-s slot; 1-4 GPUs on
    one node or whole nodes on two; 1-2 CPUs; sleeps of 6-24 s; limits of 1 or 2 minutes;
    one job in eight in ``urgent``."""
    rng = np.random.default_rng(seed)
    out: list[SlurmJob] = []
    slot = 0
    while len(out) < jobs:
        out += sample_burst(rng, first=len(out), most=jobs - len(out),
                            submit_s=SLOT_S * slot + SLOT_S / 2, hosts=hosts,
                            gpus_per_host=gpus_per_host)
        slot += 1
    return out


def sample_burst(rng: np.random.Generator, *, first: int, most: int, submit_s: float,
                 hosts: int, gpus_per_host: int) -> list[SlurmJob]:
    """One burst of :func:`mixed_workload`: 1-4 jobs (at most ``most``) named from
    ``j{first:02d}``, all submitted at ``submit_s``."""
    out: list[SlurmJob] = []
    for _ in range(min(int(rng.choice([1, 2, 2, 3, 3, 4])), most)):
        two_nodes = hosts >= 2 and rng.random() < 0.12
        gpus = gpus_per_host if two_nodes else int(rng.integers(1, gpus_per_host + 1))
        out.append(SlurmJob(
            name=f"j{first + len(out):02d}", submit_s=submit_s,
            duration_s=float(rng.integers(6, 25)),
            time_limit_s=60.0 * int(rng.integers(1, 3)), gpus_per_node=gpus,
            nodes=2 if two_nodes else 1, cpus_per_node=int(rng.integers(1, 3)),
            partition="urgent" if rng.random() < 0.125 else "batch"))
    return out


def outcomes(jobs: Sequence[SlurmJob], config: SlurmConfig, *, trials: int = 16,
             jitter_s: float = 0.3) -> int:
    """How many different schedules (each job's nodes and whether it is preempted) the
    model predicts when each job's end and each scheduler pass move by up to ``jitter_s``
    either way (16 seeded trials). More than one means the schedule hinges on which of two events a fraction
    of a second apart comes first, which no model of a real slurmctld can know; the
    comparison runs a workload with exactly one."""
    seen = set()
    for trial in range(trials):
        timing = Timing(jitter_s=jitter_s, jitter_seed=trial)
        seen.add(tuple((p.nodes, p.preempted) for p in predict(jobs, config, timing=timing)))
    return len(seen)


@dataclass(frozen=True, kw_only=True)
class JobComparison:
    """One job: predicted and measured start (seconds from the first begin time)."""

    name: str
    job_id: int
    submit_s: float
    predicted_start_s: float
    measured_start_s: float
    predicted_preempted: bool
    measured_state: str

    @property
    def error_s(self) -> float:
        """measured - predicted."""
        return self.measured_start_s - self.predicted_start_s


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """The whole workload's comparison."""

    rows: list[JobComparison]
    order_inversions: list[tuple[str, str]]
    """Pairs started in one order and predicted in the other, each side >= tolerance apart."""

    @property
    def max_abs_error_s(self) -> float:
        """Largest |measured - predicted| start."""
        return max(abs(r.error_s) for r in self.rows)


def inversions(rows: Sequence[JobComparison], *, tolerance_s: float = 2.0) -> list[tuple[str, str]]:
    """Pairs (a, b) that sacct starts >= tolerance apart in one order while the model
    predicts them >= tolerance apart in the other, or the reverse: the start order disagrees
    by more than the one-second resolution of sacct plus the scheduler's tick allows."""
    bad = []
    for a in rows:
        for b in rows:
            measured = b.measured_start_s - a.measured_start_s
            predicted = b.predicted_start_s - a.predicted_start_s
            if (measured >= tolerance_s and predicted < 0) or (
                    predicted >= tolerance_s and measured < 0):
                bad.append((a.name, b.name))
    return bad


def run_workload(state: SlurmLabState, jobs: Sequence[SlurmJob], *,
                 timeout_s: float = 600.0) -> tuple[float, list[SlurmJob], list[client.AcctRow]]:
    """Submit each job with ``sbatch`` at its submission time (from a start ``LEAD_S``
    ahead); wait until all are done. Returns the start (epoch seconds), the jobs with the
    submission times they really got (relative to that start), and their sacct rows.

    Jobs are not submitted ahead with ``--begin``: slurmctld only notices a begin time at
    its periodic full pass (``sched_interval``), not at the next backfill pass.
    """
    t0 = time.time() + LEAD_S
    ids: dict[int, str] = {}
    submitted = []
    for job in sorted(jobs, key=lambda j: j.submit_s):
        delay = t0 + job.submit_s - time.time()
        if delay > 0:
            time.sleep(delay)
        at = time.time() - t0
        ids[client.submit(state, job)] = job.name
        submitted.append(dataclasses.replace(job, submit_s=max(at, 0.0)))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = [r for r in client.sacct(state) if r.job_id in ids]
        if len(rows) == len(ids) and all(r.state in DONE for r in rows):
            return t0, submitted, rows
        time.sleep(1.0)
    raise RunError(f"the workload did not finish within {timeout_s:g} s")


def compare(predicted: Sequence[PredictedJob], t0: float,
            rows: Sequence[client.AcctRow]) -> Comparison:
    """Pair sacct rows with predictions by job name. sacct's start is a whole second
    (truncated), so the measured start is taken at the middle of that second."""
    by_name = {p.name: p for p in predicted}
    out = []
    for row in rows:
        pred = by_name[row.name]
        if pred.start_s is None or row.start_epoch_s is None:
            raise RunError(f"job {row.name} never started ({row.state})")
        out.append(JobComparison(name=row.name, job_id=row.job_id,
                                 submit_s=by_name[row.name].submit_s,
                                 predicted_start_s=pred.start_s,
                                 measured_start_s=row.start_epoch_s + 0.5 - t0,
                                 predicted_preempted=pred.preempted, measured_state=row.state))
    return Comparison(rows=out, order_inversions=inversions(out))


def run_comparison(state: SlurmLabState, jobs: Sequence[SlurmJob], config: SlurmConfig, *,
                   timing: Timing | None = None, timeout_s: float = 600.0) -> Comparison:
    """Run ``jobs`` on the lab and compare with the model's predictions."""
    t0, submitted, rows = run_workload(state, jobs, timeout_s=timeout_s)
    return compare(predict(submitted, config, timing=timing or Timing()), t0, rows)

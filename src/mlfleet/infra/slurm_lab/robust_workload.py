"""A mixed workload whose predicted schedule no sub-second timing can change.

A real slurmctld acts on an event 0.1-1 s after it (its queued pass), and a job's launch
and completion take 0-1 s: the model takes the middle of each (:class:`Timing`). Where two
events a fraction of a second apart decide which job gets a node (a job's end and a
submission's pass, say), the real order is a coin, and every start after it can move by
tens of seconds (docs/scheduling-slurm.md: seeds 10, 22, 27 of :func:`mixed_workload`).
No model can call those. What can be predicted, and compared within 2 s, is a workload
without such knife edges, so this builds one, burst by burst:

* a burst is drawn as :func:`~.compare.sample_burst` draws it (1-4 jobs at the middle of a
  10-s slot, 1-4 GPUs or two whole nodes, two partitions);
* it is kept if the whole workload so far stays *robust*: in each of ``trials`` seeded
  runs of the model with every job end and every scheduler pass moved by up to
  ``jitter_s`` either way, every job keeps its nodes and its fate (preempted or not) and
  no start moves by more than ``max_move_s``; and the same holds when backfill plans as
  slurmctld's log shows Slurm 22.05 doing it: a blocked job's start found by cons_tres's
  batched will-run test (running jobs removed in batches up to a 30-s barrier, the start
  being the batch's last end) and whole nodes reserved for it (node_space), at three
  phases of the barrier. The model's own plan is exact and reserves only the GPUs asked
  for; the first robust workload, checked without these variants, had one job start
  1.9-3.0 s late in both real runs, held off a node Slurm had reserved that way;
* else the burst is drawn again (up to ``attempts`` times; then the slot stays empty).

This is the issue's "scale the workload so that this holds on a loaded host", done on the
schedule's decisions rather than by stretching time: the jobs, sizes, partitions and
priorities are those of the random mix; only bursts whose fate would hinge on a
sub-second race are redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import positive, positive_int
from mlfleet.infra.scheduling.slurm.config import SlurmConfig
from mlfleet.infra.scheduling.slurm.predict import PredictedJob, Timing, predict
from mlfleet.infra.scheduling.slurm.workload import SlurmJob
from mlfleet.infra.slurm_lab.compare import SLOT_S, mixed_config, sample_burst

SLURM_PLAN_PHASES_S = (0.0, 10.0, 20.0)
"""Phases of cons_tres's 30-s will-run barrier (aligned on the epoch, so unknown before a
run) at which the Slurm-plan variant is run."""


@dataclass(frozen=True, kw_only=True)
class Robustness:
    """How far sub-second timing may move events, and how far a start may then move."""

    jitter_s: float = 0.5
    """Each job end and scheduler pass moves by up to this either way (the model's
    pass latency, 0.5 s, is the middle of the 0.1-1 s seen on the lab)."""
    max_move_s: float = 1.5
    """A robust schedule moves no start by more than this (moves add up along a chain of
    jobs each started by the previous one's end)."""
    trials: int = 48
    """Jittered runs of the model. With 16, a workload still changed a job's fate in 3 of
    64 unseen trials; with 48, the comparison's workload (seed 14) in none."""

    def __post_init__(self) -> None:
        positive("jitter_s", self.jitter_s)
        positive("max_move_s", self.max_move_s)
        positive_int("trials", self.trials)


def _starts(predicted: list[PredictedJob]) -> np.ndarray:
    return np.array([np.nan if p.start_s is None else p.start_s for p in predicted])


def is_robust(jobs: list[SlurmJob], config: SlurmConfig,
              robustness: Robustness | None = None) -> bool:
    """True when no trial of jittered timing changes a job's nodes or fate, or moves its
    start by more than ``max_move_s`` (module docstring)."""
    rob = robustness or Robustness()
    base = predict(jobs, config)
    fate = [(p.nodes, p.preempted) for p in base]
    starts = _starts(base)
    variants = [*(Timing(whole_node_reservations=True, will_run_phase_s=phase)
                  for phase in SLURM_PLAN_PHASES_S),
                *(Timing(jitter_s=rob.jitter_s, jitter_seed=t) for t in range(rob.trials))]
    for timing in variants:
        moved = predict(jobs, config, timing=timing)
        if [(p.nodes, p.preempted) for p in moved] != fate:
            return False
        shift = np.abs(_starts(moved) - starts)
        if np.any(np.isnan(shift) != np.isnan(starts)) or np.nanmax(shift, initial=0.0) \
                > rob.max_move_s:
            return False
    return True


def robust_workload(*, jobs: int = 52, seed: int = 0, hosts: int = 4, gpus_per_host: int = 4,
                    config: SlurmConfig | None = None, robustness: Robustness | None = None,
                    attempts: int = 40) -> list[SlurmJob]:
    """``jobs`` jobs in bursts, each burst kept only if the workload stays robust
    (module docstring). Deterministic in ``seed``."""
    positive_int("jobs", jobs)
    positive_int("attempts", attempts)
    cfg = config or mixed_config(hosts=hosts, gpus_per_host=gpus_per_host)
    rng = np.random.default_rng(seed)
    out: list[SlurmJob] = []
    slot = 0
    while len(out) < jobs:
        for _ in range(attempts):
            burst = sample_burst(rng, first=len(out), most=jobs - len(out),
                                 submit_s=SLOT_S * slot + SLOT_S / 2, hosts=hosts,
                                 gpus_per_host=gpus_per_host)
            if is_robust(out + burst, cfg, robustness):
                out += burst
                break
        slot += 1
    return out


@dataclass(frozen=True, kw_only=True)
class Mix:
    """What a workload exercises, as the model predicts it."""

    jobs: int
    queued: int
    """Jobs predicted to wait more than 1 s."""
    preempted: int
    two_node: int
    urgent: int
    backfilled: int


def workload_mix(jobs: list[SlurmJob], config: SlurmConfig) -> Mix:
    """Counts of the features the comparison should cover."""
    predicted = predict(jobs, config)
    return Mix(jobs=len(jobs),
               queued=sum(p.start_s is not None and p.start_s - p.submit_s > 1.0
                          for p in predicted),
               preempted=sum(p.preempted for p in predicted),
               two_node=sum(j.nodes == 2 for j in jobs),
               urgent=sum(j.partition == "urgent" for j in jobs),
               backfilled=sum(p.started_by == "backfill" for p in predicted))

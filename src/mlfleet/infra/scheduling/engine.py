"""The cluster-scheduling engine: jobs, a policy and rounds on :mod:`mlfleet.sim`.

Round-based, as the Pollux artifact's simulator (``simulator/simulator.py``; Qiao et
al., OSDI'21, Sec. 5.3): the clock starts at 0 and a scheduling round falls every
``interval_s`` (the first one interval in). At a round the engine first advances every
job that holds GPUs to now (a placement change costs ``restart_delay_s`` before it
progresses again, 30 s in the artifact), then shows the policy a
:class:`~.types.JobView` of every active job (submitted at or before now, unfinished;
in workload order) and applies the placements it returns, after checking that no node
is over capacity. A job that finishes between rounds keeps its GPUs until the next
round. Arrivals come from a :class:`~mlfleet.sim.kernel.Source`; with no active job
no round runs, and the next arrival schedules one on the grid.

A policy with ``quiet_until_s`` (:class:`~.types.QuietPolicy`) lets the engine skip the
rounds in which no job arrives or finishes and the policy would decide the same
(rounds stay on the grid, so results equal a round every interval).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from mlfleet.infra.scheduling.job_state import JobState, counts_of
from mlfleet.infra.scheduling.node_usage import NodeUsage, PlacementError
from mlfleet.infra.scheduling.results import ClusterResult, result_of
from mlfleet.infra.scheduling.speed.model import JobSpeed
from mlfleet.infra.scheduling.types import ClusterView, JobSpec, JobView, Placement, Policy
from mlfleet.sim import Simulation

Progress = Callable[[int, int], None]
__all__ = ["ClusterEngine", "PlacementError", "simulate"]


class _Arrivals:
    """Submissions in time order, as a kernel Source."""

    def __init__(self, engine: ClusterEngine, jobs: list[JobState]) -> None:
        self._engine, self._jobs, self._next = engine, jobs, 0
        self.next_s = jobs[0].spec.submit_s if jobs else math.inf

    def fire(self, now_s: float) -> None:
        self._engine.arrive(self._jobs[self._next], now_s)
        self._next += 1
        self.next_s = (self._jobs[self._next].spec.submit_s if self._next < len(self._jobs)
                       else math.inf)

    @property
    def exhausted(self) -> bool:
        return self._next >= len(self._jobs)


class ClusterEngine:
    """Runs one workload under one policy on ``nodes`` x ``gpus_per_node`` GPUs."""

    def __init__(self, specs: Sequence[JobSpec], speeds: Sequence[JobSpeed], policy: Policy,
                 *, nodes: int, gpus_per_node: int, restart_delay_s: float = 30.0,
                 skip_quiet_rounds: bool = True) -> None:
        self.policy, self.nodes, self.gpus_per_node = policy, nodes, gpus_per_node
        self.restart_delay_s = restart_delay_s
        self.interval_s = float(policy.interval_s)
        order = sorted(range(len(specs)), key=lambda i: (specs[i].submit_s, i))
        self.jobs = [JobState(specs[i], speeds[i], order=i) for i in order]
        self._active: list[JobState] = []
        """Submitted, unfinished jobs, in workload order (arrival order)."""
        self._holding: list[JobState] = []
        """Active jobs that hold GPUs."""
        self._first_eta_s: float | None = None
        """Earliest finish among :attr:`_holding` if nothing changes (None: recompute)."""
        self._nodes = NodeUsage(nodes=nodes, gpus_per_node=gpus_per_node, policy=policy.name)
        self._sim = Simulation()
        self._round_kind = self._sim.kind("round")
        self._round_seq: int | None = None
        self._round_at = math.inf
        self._quiet = getattr(policy, "quiet_until_s", None) if skip_quiet_rounds else None
        self._arrivals = _Arrivals(self, self.jobs)
        self._finished = 0
        self.rounds = 0
        self._progress: Progress | None = None

    # ------------------------------------------------------------------ events

    def grid_at_or_after(self, t_s: float) -> float:
        """The first round time >= ``t_s`` (rounds fall at k x interval, k >= 1)."""
        k = max(1, math.ceil(t_s / self.interval_s - 1e-9))
        return k * self.interval_s

    def _round_by(self, at_s: float) -> None:
        """Make sure a round runs no later than ``at_s``."""
        if at_s >= self._round_at:
            return
        if self._round_seq is not None:
            self._sim.cancel(self._round_seq)
        self._round_seq = self._sim.schedule(at_s, self._round_kind)
        self._round_at = at_s

    def arrive(self, job: JobState, now_s: float) -> None:
        job.last_s = now_s
        self._active.append(job)
        self._round_by(self.grid_at_or_after(now_s))

    def run(self, *, progress: Progress | None = None) -> ClusterResult:
        """Simulate until every job finished or nothing can change; the result."""
        self._progress = progress
        self._sim.run({self._round_kind: self._on_round}, source=self._arrivals)
        return result_of(self.policy.name, self.jobs, cluster_gpus=self.nodes * self.gpus_per_node,
                         rounds=self.rounds)

    def _on_round(self, now_s: float, seq: int, payload: object) -> None:
        self._round_seq, self._round_at = None, math.inf
        self.rounds += 1
        self._advance(now_s)
        for job in self._active:
            job.view.age_s = now_s - job.spec.submit_s
        cluster = ClusterView(nodes=self.nodes, gpus_per_node=self.gpus_per_node,
                              free_gpus=self._nodes.free())
        views = [j.view for j in self._active]
        decided = self.policy.schedule(now_s, views, cluster) if views else {}
        self._apply(now_s, self._nodes.changes(self._active, decided))
        if self._progress is not None and self.rounds % 256 == 0:
            self._progress(self._finished, len(self.jobs))
        self._schedule_next(now_s, views, cluster)

    def _advance(self, now_s: float) -> None:
        """Train every job holding GPUs up to now; release the finished ones."""
        done = False
        for job in self._holding:
            job.advance_to(now_s)
            done = done or job.finish_s is not None
        if not done:
            return
        for job in self._holding:
            if job.finish_s is not None:
                self._nodes.move(job, job.placement, ())
                self._finished += 1
        self._holding = [j for j in self._holding if j.finish_s is None]
        self._active = [j for j in self._active if j.finish_s is None]
        self._first_eta_s = None

    def _apply(self, now_s: float, changes: list[tuple[JobState, Placement]]) -> None:
        for job, new in changes:
            self._nodes.move(job, job.placement, new)
            job.replace(new, counts_of(new), now_s=now_s, delay_s=self.restart_delay_s)
        if changes:
            self._holding = [j for j in self._active if j.placement]
            self._first_eta_s = None

    def _schedule_next(self, now_s: float, views: list[JobView], cluster: ClusterView) -> None:
        if not self._holding:
            return  # nothing runs: only an arrival can change anything
        if self._quiet is None:
            self._round_by(now_s + self.interval_s)
            return
        if self._first_eta_s is None:  # holders unchanged: their finishes are too
            self._first_eta_s = min(j.eta_s for j in self._holding)
        next_s = min(self._quiet(now_s, views, cluster), self._first_eta_s)
        if next_s < math.inf:
            self._round_by(max(now_s + self.interval_s, self.grid_at_or_after(next_s)))


def simulate(specs: Sequence[JobSpec], speeds: Sequence[JobSpeed], policy: Policy, *,
             nodes: int, gpus_per_node: int, restart_delay_s: float = 30.0,
             skip_quiet_rounds: bool = True, progress: Progress | None = None) -> ClusterResult:
    """Run ``specs`` (with their speed models) under ``policy``; the result."""
    engine = ClusterEngine(specs, speeds, policy, nodes=nodes, gpus_per_node=gpus_per_node,
                           restart_delay_s=restart_delay_s, skip_quiet_rounds=skip_quiet_rounds)
    return engine.run(progress=progress)

"""Monte-Carlo check of the spot model: a checkpointing job under Poisson preemptions.

Runs on :class:`mlfleet.sim.Simulation`. A job of ``solve_s`` work (a whole number of
``interval_s`` segments) runs segments of ``interval_s`` work plus a ``ckpt_s`` write;
preemptions arrive as a Poisson process of rate ``rate_per_s`` (stream ``"preemptions"``)
at any time, during work, checkpoint writes and restarts alike. A preemption loses the
segment in progress (or the restart in progress) and starts a ``restart_s`` restart.
Jobs run back to back; the mean wall time per job is what Daly's eq. (20) predicts
exactly, which :func:`mlfleet.infra.tco.cloud.spot_job` uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlfleet.checks import non_negative, positive, positive_int
from mlfleet.errors import InputError
from mlfleet.sim import Simulation


@dataclass(frozen=True, kw_only=True)
class SpotSimResult:
    """Wall time of ``jobs`` simulated jobs."""

    jobs: int
    mean_wall_s: float
    stderr_wall_s: float
    """Standard error of the mean."""
    preemptions_per_job: float
    events: int


class _SpotJobs:
    """The state of the jobs being simulated; handlers return their follow-up events."""

    def __init__(self, sim: Simulation, *, segments: int, interval_s: float, ckpt_s: float,
                 restart_s: float, rate_per_s: float, jobs: int) -> None:
        self.sim, self.segments, self.jobs = sim, segments, jobs
        self.segment_s, self.restart_s = interval_s + ckpt_s, restart_s
        self.rng, self.mean_gap_s = sim.stream("preemptions"), 1.0 / rate_per_s
        self.segment_kind, self.restart_kind = sim.kind("segment_end"), sim.kind("restart_end")
        self.preempt_kind = sim.kind("preemption")
        self.done_segments, self.started_s, self.pending_seq = 0, 0.0, -1
        self.walls_s: list[float] = []
        self.preemptions = 0

    def start(self) -> None:
        self.pending_seq = self.sim.schedule(self.segment_s, self.segment_kind)
        self.sim.schedule(self.rng.exponential(self.mean_gap_s), self.preempt_kind)

    def on_segment_end(self, t: float, seq: int, payload: object) -> None:
        self.done_segments += 1
        if self.done_segments == self.segments:  # job done: the next one starts now
            self.walls_s.append(t - self.started_s)
            self.done_segments, self.started_s = 0, t
            if len(self.walls_s) == self.jobs:
                return
        self.pending_seq = self.sim.schedule(t + self.segment_s, self.segment_kind)

    def on_restart_end(self, t: float, seq: int, payload: object) -> None:
        self.pending_seq = self.sim.schedule(t + self.segment_s, self.segment_kind)

    def on_preemption(self, t: float, seq: int, payload: object) -> None:
        if len(self.walls_s) == self.jobs:
            return  # all jobs finished: let the run end
        self.preemptions += 1
        self.sim.cancel(self.pending_seq)  # the segment (or restart) in progress is lost
        self.pending_seq = self.sim.schedule(t + self.restart_s, self.restart_kind)
        self.sim.schedule(t + self.rng.exponential(self.mean_gap_s), self.preempt_kind)


def simulate_spot_jobs(*, solve_s: float, interval_s: float, ckpt_s: float, restart_s: float,
                       rate_per_s: float, jobs: int, seed: int) -> SpotSimResult:
    """Simulate ``jobs`` jobs back to back; same seed, same result."""
    positive("interval_s", interval_s)
    segments = round(positive("solve_s", solve_s) / interval_s)
    if segments < 1 or not math.isclose(segments * interval_s, solve_s, rel_tol=1e-9):
        raise InputError(f"solve_s(={solve_s:g}) must be a whole number of "
                         f"interval_s(={interval_s:g}) segments")
    sim = Simulation(seed=seed)
    state = _SpotJobs(sim, segments=segments, interval_s=interval_s,
                      ckpt_s=non_negative("ckpt_s", ckpt_s),
                      restart_s=non_negative("restart_s", restart_s),
                      rate_per_s=positive("rate_per_s", rate_per_s),
                      jobs=positive_int("jobs", jobs))
    state.start()
    sim.run({state.segment_kind: state.on_segment_end, state.restart_kind: state.on_restart_end,
             state.preempt_kind: state.on_preemption})
    walls = np.asarray(state.walls_s)
    return SpotSimResult(jobs=jobs, mean_wall_s=float(walls.mean()),
                         stderr_wall_s=float(walls.std(ddof=1) / math.sqrt(jobs)) if jobs > 1
                         else math.nan,
                         preemptions_per_job=state.preemptions / jobs, events=sim.events)

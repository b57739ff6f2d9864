"""A training job of weeks on the discrete-event kernel: work, checkpoints, failures.

The job does ``solve_s`` seconds of full-speed work in segments of the checkpoint
interval; after each segment it checkpoints (:class:`~.policies.CheckpointPolicy`). A
failure (:mod:`.failure_process`) loses the work since the last *committed* checkpoint
and any checkpoint write in flight; the job then recovers (``detect_s`` + ``restart_s``)
from that checkpoint. A failure during a checkpoint or a recovery interrupts it too, and
a recovery interrupted starts again from detection. With ``final`` checkpoints and
unlimited spares these are the semantics of Daly's eq. 20 (FGCS 2006), with
``R = detect_s + restart_s``: ``tests/reliability/test_goodput_vs_daly.py`` checks the
mean wall time over seeds against it.

The failure process strikes the job's ``nodes`` slots uniformly; with finite spares, a
failure that strikes a slot whose node is already in repair does nothing (thinning: the
job's failure rate is proportional to the nodes it has). With unlimited spares every
failure strikes.

Events: ``failure`` (the next is drawn when one fires), ``work_done``, ``ckpt_done``
(a sync write or an async snapshot ends), ``write_done`` (an async write lands),
``recovered`` and ``repaired`` (a node back from repair, with finite spares).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mlfleet.checks import non_negative, positive, positive_int
from mlfleet.errors import InputError
from mlfleet.reliability.sim.failure_process import Exponential, Failure, FailureProcess
from mlfleet.reliability.sim.policies import CheckpointPolicy, SparePolicy, SparePool
from mlfleet.sim import Simulation

STATES = ("work", "checkpoint", "recovery", "waiting")
"""Where the job's wall time goes (``checkpoint`` is time stalled on checkpoints)."""


class NoProgressError(InputError):
    """A simulated job that does not finish: it waits for repairs that never catch up."""


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """A training job and everything that happens to it."""

    solve_s: float
    """Seconds of useful work at full speed (all nodes)."""
    checkpoint: CheckpointPolicy
    """Checkpoint interval, cost and mode."""
    failures: FailureProcess = field(default_factory=lambda: Exponential(mtbf_s=86400.0))
    """The job's failure process."""
    detect_s: float = 0.0
    """Seconds from a failure until it is detected."""
    restart_s: float = 600.0
    """Seconds from detection until training resumes (reschedule, load the checkpoint)."""
    nodes: int = 1
    """Nodes the job runs on at full speed (matters with finite spares or elastic)."""
    spares: SparePolicy = field(default_factory=SparePolicy)
    """Spare nodes and elasticity."""

    def __post_init__(self) -> None:
        positive("solve_s", self.solve_s)
        non_negative("detect_s", self.detect_s)
        non_negative("restart_s", self.restart_s)
        positive_int("nodes", self.nodes)

    @property
    def recovery_s(self) -> float:
        """Daly's R: detection + restart, seconds."""
        return self.detect_s + self.restart_s


@dataclass(frozen=True, kw_only=True)
class JobResult:
    """One simulated run of a job."""

    wall_s: float
    """Seconds from start to the last checkpoint (or the end of the work)."""
    solve_s: float
    """Useful work done, seconds at full speed."""
    lost_work_s: float
    """Work done and lost to failures (not yet checkpointed), seconds at full speed."""
    failures: int
    """Failures during the run."""
    checkpoints: int
    """Checkpoints committed."""
    lost_writes: int
    """Async checkpoint writes lost to a failure before they landed."""
    time_in_state_s: dict[str, float]
    """Wall seconds per state (:data:`STATES`); they sum to ``wall_s``."""
    degraded_work_s: float
    """Wall seconds of work on fewer nodes than the job's (elastic)."""
    events: int
    """Events the kernel dispatched."""

    @property
    def goodput(self) -> float:
        """Useful work / wall time."""
        return self.solve_s / self.wall_s


class TrainingJob:
    """The state of one run; its methods are the kernel's handlers."""

    def __init__(self, spec: JobSpec, sim: Simulation, *, max_events: int | None = None) -> None:
        self.spec, self.sim, self.max_events = spec, sim, max_events
        self._slots = sim.stream("slots")
        self.ckpt = spec.checkpoint
        self.pool = SparePool(spec.spares)
        self._gaps: Iterator[Failure] = spec.failures.gaps(sim.stream("failures"))
        self.k_failure, self.k_work, self.k_ckpt, self.k_write, self.k_recovered, \
            self.k_repaired = (sim.kind(n) for n in ("failure", "work_done", "ckpt_done",
                                                     "write_done", "recovered", "repaired"))
        self.state, self.since_s = "work", sim.now_s
        self.time_s = dict.fromkeys(STATES, 0.0)
        self.active = self.available = spec.nodes
        self.progress_s = self.committed_s = 0.0
        self.job_seq = self.write_seq = self.failure_seq = -1
        self.lost_work_s, self.degraded_s = 0.0, 0.0
        self.failures = self.checkpoints = self.lost_writes = 0
        self.done_s = math.nan

    # ------------------------------------------------------------ driving

    def run(self) -> JobResult:
        """Run the job to its end; the result."""
        handlers: list[Any] = [None] * 6
        for kind, handler in ((self.k_failure, self.on_failure), (self.k_work, self.on_work),
                              (self.k_ckpt, self.on_ckpt), (self.k_write, self.on_write),
                              (self.k_recovered, self.on_recovered),
                              (self.k_repaired, self.on_repaired)):
            handlers[kind] = handler
        self._next_failure()
        self._start_work()
        self.sim.run(handlers)
        assert not math.isnan(self.done_s), "the job never finished"
        spec = self.spec
        return JobResult(wall_s=self.done_s, solve_s=spec.solve_s,
                         lost_work_s=self.lost_work_s, failures=self.failures,
                         checkpoints=self.checkpoints, lost_writes=self.lost_writes,
                         time_in_state_s=dict(self.time_s), degraded_work_s=self.degraded_s,
                         events=self.sim.events)

    def _enter(self, state: str) -> None:
        now = self.sim.now_s
        spent = now - self.since_s
        self.time_s[self.state] += spent
        if self.state == "work" and self.active < self.spec.nodes:
            self.degraded_s += spent
        self.state, self.since_s = state, now

    def _rate(self) -> float:
        return self.active / self.spec.nodes

    def _schedule_job(self, delay_s: float, kind: int, payload: Any = None) -> None:
        self.job_seq = self.sim.schedule_in(delay_s, kind, payload)

    def _next_failure(self) -> None:
        failure = next(self._gaps)
        self.failure_seq = self.sim.schedule_in(failure.gap_s, self.k_failure, failure.nodes)

    # ------------------------------------------------------------ work and checkpoints

    def _start_work(self) -> None:
        self._enter("work")
        chunk_s = min(self.ckpt.interval_s, self.spec.solve_s - self.progress_s)
        self._schedule_job(chunk_s / self._rate(), self.k_work, chunk_s)

    def on_work(self, t: float, seq: int, chunk_s: float) -> None:
        self.job_seq = -1
        self.progress_s += chunk_s
        finished = self.progress_s >= self.spec.solve_s * (1 - 1e-12)
        if finished and not self.ckpt.final:
            self._finish()
        elif self.ckpt.mode == "async" and self.write_seq >= 0:
            self._enter("checkpoint")  # the snapshot waits for the previous write
        else:
            self._snapshot()

    def _snapshot(self) -> None:
        self._enter("checkpoint")
        self._schedule_job(self.ckpt.stall_s, self.k_ckpt, self.progress_s)

    def on_ckpt(self, t: float, seq: int, progress_s: float) -> None:
        if self.ckpt.mode == "sync":
            self._commit(progress_s)
        else:
            self.write_seq = self.sim.schedule_in(self.ckpt.cost_s, self.k_write, progress_s)
            self.job_seq = -1
        if self.progress_s < self.spec.solve_s * (1 - 1e-12):
            self._continue()
        elif self.ckpt.mode == "sync":
            self._finish()
        # async and finished: stay in "checkpoint" until the last write lands

    def on_write(self, t: float, seq: int, progress_s: float) -> None:
        self.write_seq = -1
        self._commit(progress_s)
        if self.state != "checkpoint" or self.job_seq >= 0:
            return
        if progress_s >= self.spec.solve_s * (1 - 1e-12):
            self._finish()
        else:
            self._snapshot()  # a snapshot was waiting for this write

    def _commit(self, progress_s: float) -> None:
        self.committed_s = progress_s
        self.checkpoints += 1

    def _continue(self) -> None:
        """After a checkpoint: grow back if nodes returned (elastic), else work on."""
        if self.active < self.available:
            self._recover(detect=False)
        else:
            self._start_work()

    def _finish(self) -> None:
        self._enter("work")
        self.done_s = self.sim.now_s
        for seq in (self.failure_seq, *(s for s, _ in self.sim.pending_of(self.k_repaired))):
            self.sim.cancel(seq)

    # ------------------------------------------------------------ failures and recovery

    def on_failure(self, t: float, seq: int, nodes: int) -> None:
        self._next_failure()
        if self.max_events is not None and self.sim.events > self.max_events:
            raise NoProgressError(
                f"the job did not finish within {self.max_events:.3g} events ("
                f"{self.committed_s / self.spec.solve_s:.1%} of its work done after "
                f"{t / 86400:.3g} simulated days): failures outpace repairs; give it more "
                "spares, elasticity, a shorter repair or a longer MTBF")
        if self.available < self.spec.nodes and \
                self._slots.random() * self.spec.nodes >= self.available:
            return  # it struck a slot whose node is already in repair
        self.failures += 1
        if self.state == "work":
            self.progress_s += (t - self.since_s) * self._rate()
        self.lost_work_s += self.progress_s - self.committed_s
        self.progress_s = self.committed_s
        for pending in (self.job_seq, self.write_seq):
            self.sim.cancel(pending)
        self.lost_writes += self.write_seq >= 0
        self.job_seq = self.write_seq = -1
        self._lose_nodes(min(nodes, self.available))
        if self.available == 0 or (self.available < self.spec.nodes and not self.spec.spares.elastic):
            self._enter("waiting")
        else:
            self._recover(detect=True)

    def _lose_nodes(self, nodes: int) -> None:
        pool = self.pool
        pool.send_to_repair(nodes)
        if not pool.unlimited:
            for _ in range(nodes):
                self.sim.schedule_in(self.spec.spares.repair_s, self.k_repaired)
        self.available -= pool.take(nodes)

    def _recover(self, *, detect: bool) -> None:
        self._enter("recovery")
        delay_s = self.spec.recovery_s if detect else self.spec.restart_s
        self._schedule_job(delay_s, self.k_recovered)

    def on_recovered(self, t: float, seq: int, payload: None) -> None:
        self.active = self.available
        self._start_work()

    def on_repaired(self, t: float, seq: int, payload: None) -> None:
        self.pool.repaired()
        if self.available < self.spec.nodes:
            self.pool.take(1)
            self.available += 1
        if self.state == "waiting" and (self.available == self.spec.nodes
                                        or self.spec.spares.elastic):
            self._recover(detect=True)


def simulate_job(spec: JobSpec, *, seed: int, max_events: int | None = None) -> JobResult:
    """One run of ``spec`` on a fresh kernel seeded ``seed``.

    Raises :class:`NoProgressError` when the run passes ``max_events`` kernel events
    (a job that waits for repairs faster than they come never finishes).
    """
    return TrainingJob(spec, Simulation(seed=seed), max_events=max_events).run()

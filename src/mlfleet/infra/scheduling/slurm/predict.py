"""When each job of a fixed-duration workload starts under Slurm: a discrete-event model
of slurmctld on :class:`mlfleet.sim.Simulation`.

Events: submissions, job ends, backfill passes every ``bf_interval`` and full main
passes every ``sched_interval``. A submission and a job end each trigger a main pass
(:mod:`.main_scheduler`) ``pass_latency_s`` later; a backfill pass (:mod:`.backfill`) starts what the main pass
left and can start without delaying a reservation; a higher-tier job blocked by
lower-tier jobs preempts them (:mod:`.preemption`). A job started at ``t`` frees its
nodes at ``t + min(duration, limit) + end_overhead_s``: the overhead is the launch of
the batch script and the completion report, which a real slurmctld adds to every job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mlfleet.infra.scheduling.slurm.allocation import FreeNodes, Holding, Request, queue_order
from mlfleet.infra.scheduling.slurm.backfill import backfill_pass
from mlfleet.infra.scheduling.slurm.config import SlurmConfig
from mlfleet.infra.scheduling.slurm.main_scheduler import main_pass
from mlfleet.infra.scheduling.slurm.priority import (
    PriorityFactors,
    age_factor,
    job_priority,
    job_size_factor,
    ratio_factor,
)
from mlfleet.infra.scheduling.slurm.workload import SlurmJob, WorkloadError, check_fits
from mlfleet.sim import Simulation


@dataclass(frozen=True, kw_only=True)
class Timing:
    """The latencies of a real slurmctld that the model adds (seconds), and the variants
    a workload's schedule can be checked against (jitter, whole-node reservations)."""

    end_overhead_s: float = 0.15
    """From a job's start to its nodes being free again, beyond its run time (the batch
    script's launch and the completion report)."""
    pass_latency_s: float = 0.5
    """From a submission or a job end to the scheduler pass that acts on it. slurmctld
    queues the pass; on the lab it came 0.1-1 s later (bf_interval=1), so half a second."""
    bf_phase_s: float = 0.5
    """Time of the first backfill pass (later ones follow every bf_interval)."""
    jitter_s: float = 0.0
    """Each job's end and each triggered pass move by up to this much either way,
    uniformly at random (seeded): to test whether a workload's predicted schedule hinges
    on sub-second timing."""
    jitter_seed: int = 0
    whole_node_reservations: bool = False
    """Backfill reserves whole nodes for a blocked job (Slurm's node_space plan) instead of
    the GPUs and CPUs it asks for: a variant, see :func:`.backfill.backfill_pass`."""
    will_run_phase_s: float | None = None
    """Backfill finds a blocked job's start as cons_tres's batched will-run test does, its
    30-s barrier at this phase: a variant, see :meth:`.backfill.Plan.earliest`."""


@dataclass(frozen=True, kw_only=True)
class PredictedJob:
    """One job's predicted life."""

    name: str
    submit_s: float
    start_s: float | None
    end_s: float | None
    nodes: tuple[int, ...]
    priority: int
    started_by: str = ""
    """``main`` or ``backfill``."""
    preempted: bool = False


def factors_of(job: SlurmJob, config: SlurmConfig, *, now_s: float,
               fairshare: Mapping[str, float]) -> PriorityFactors:
    """The multifactor factors of ``job`` at ``now_s``."""
    w = config.weights
    return PriorityFactors(
        age=age_factor(now_s - job.submit_s, max_age_s=w.max_age_s),
        fairshare=fairshare.get(job.account, 0.0),
        job_size=job_size_factor(nodes=job.nodes, cpus=job.cpus, cluster_nodes=config.nodes,
                                 cluster_cpus=config.total_cpus, favor_small=w.favor_small),
        partition=ratio_factor(config.partition(job.partition).priority_job_factor,
                               config.max_job_factor))


@dataclass(kw_only=True)
class _Run:
    job: SlurmJob
    order: int
    start_s: float | None = None
    end_s: float | None = None
    nodes: tuple[int, ...] = ()
    priority: int = 0
    started_by: str = ""
    preempted: bool = False
    end_seq: int | None = None


@dataclass(kw_only=True)
class _State:
    runs: dict[str, _Run]
    free: FreeNodes
    pending: set[str] = field(default_factory=set)
    running: set[str] = field(default_factory=set)
    submitted: int = 0


class SlurmModel:
    """The model of one slurmctld running one workload; :meth:`run` gives the predictions."""

    def __init__(self, jobs: Sequence[SlurmJob], config: SlurmConfig, *,
                 timing: Timing = Timing(), fairshare: Mapping[str, float] | None = None) -> None:
        check_fits(jobs, config)
        self.config, self.timing = config, timing
        self.fairshare = dict(fairshare or {})
        runs = {j.name: _Run(job=j, order=i) for i, j in enumerate(jobs)}
        if len(runs) != len(jobs):
            raise WorkloadError("job names must be distinct")
        self.state = _State(runs=runs, free=FreeNodes(
            nodes=config.nodes, gpus_per_node=config.gpus_per_node,
            cpus_per_node=config.cpus_per_node))
        self.sim = Simulation(seed=timing.jitter_seed)
        self.jitter = self.sim.stream("end-jitter")
        self.kinds = {name: self.sim.kind(name) for name in ("submit", "end", "bf", "sched",
                                                           "pass")}

    def run(self) -> list[PredictedJob]:
        """Simulate until every job has ended."""
        k = self.kinds
        for run in self.state.runs.values():
            self.sim.schedule(run.job.submit_s, k["submit"], run.job.name)
        self.sim.schedule(self.timing.bf_phase_s, k["bf"], None)
        self.sim.schedule(self.config.sched_interval_s, k["sched"], None)
        self.sim.run({k["submit"]: self._on_submit, k["end"]: self._on_end,
                      k["bf"]: self._on_backfill, k["sched"]: self._on_sched,
                      k["pass"]: lambda t, seq, payload: self._main(t)})
        return [PredictedJob(name=r.job.name, submit_s=r.job.submit_s, start_s=r.start_s,
                             end_s=r.end_s, nodes=r.nodes, priority=r.priority,
                             started_by=r.started_by, preempted=r.preempted)
                for r in sorted(self.state.runs.values(), key=lambda r: r.order)]

    # ------------------------------------------------------------------ handlers

    def _on_submit(self, t: float, seq: int, name: str) -> None:
        self.state.pending.add(name)
        self.state.submitted += 1
        self.sim.schedule(t + max(self.timing.pass_latency_s + self._jitter(), 0.0),
                          self.kinds["pass"], None)

    def _on_end(self, t: float, seq: int, name: str) -> None:
        run = self.state.runs[name]
        self.state.running.discard(name)
        self.state.free.give(run.nodes, run.job.gpus_per_node, run.job.cpus_per_node)
        run.end_s = t
        self.sim.schedule(t + max(self.timing.pass_latency_s + self._jitter(), 0.0),
                          self.kinds["pass"], None)

    def _on_backfill(self, t: float, seq: int, payload: None) -> None:
        result = backfill_pass(now_s=t, pending=self._requests(t), holdings=self._holdings(),
                               free=self.state.free, window_s=self.config.bf_window_s,
                               max_job_test=self.config.bf_max_job_test,
                               reservations=self.config.reservations,
                               whole_nodes=(self.config.gpus_per_node, self.config.cpus_per_node)
                               if self.timing.whole_node_reservations else None,
                               batch_phase_s=self.timing.will_run_phase_s)
        for slot in result.starts:
            self._start(t, slot.key, slot.nodes, "backfill")
        if self._active():
            self.sim.schedule(t + self.config.bf_interval_s, self.kinds["bf"], None)

    def _on_sched(self, t: float, seq: int, payload: None) -> None:
        self._main(t)
        if self._active():
            self.sim.schedule(t + self.config.sched_interval_s, self.kinds["sched"], None)

    # ------------------------------------------------------------------ helpers

    def _active(self) -> bool:
        s = self.state
        return bool(s.pending or s.running or s.submitted < len(s.runs))

    def _main(self, t: float) -> None:
        result = main_pass(pending=self._requests(t), holdings=self._holdings(),
                           free=self.state.free)
        for victims in result.preemptions.values():
            for victim in victims:
                self._preempt(t, victim.key)
        for key, nodes in result.starts.items():
            self._start(t, key, nodes, "main")

    def _start(self, t: float, key: str, nodes: tuple[int, ...], how: str) -> None:
        run = self.state.runs[key]
        self.state.pending.discard(key)
        self.state.running.add(key)
        run.start_s, run.nodes, run.started_by = t, nodes, how
        run_s = min(run.job.duration_s, run.job.time_limit_s)
        run.end_seq = self.sim.schedule(t + run_s + self.timing.end_overhead_s + self._jitter(),
                                        self.kinds["end"], key)

    def _jitter(self) -> float:
        j = self.timing.jitter_s
        return float(self.jitter.uniform(-j, j)) if j > 0 else 0.0

    def _preempt(self, t: float, key: str) -> None:
        """Cancel a victim now (PreemptMode CANCEL; REQUEUE is not modelled here): the
        main pass has already counted its nodes as free."""
        run = self.state.runs[key]
        assert run.end_seq is not None
        self.sim.cancel(run.end_seq)
        self.state.running.discard(key)
        run.preempted, run.end_s, run.end_seq = True, t, None

    def _requests(self, t: float) -> list[Request]:
        out = []
        for key in self.state.pending:
            run = self.state.runs[key]
            factors = factors_of(run.job, self.config, now_s=t, fairshare=self.fairshare)
            run.priority = job_priority(factors, self.config.weights)
            job = run.job
            out.append(Request(key=key, order=run.order, submit_s=job.submit_s, nodes=job.nodes,
                               gpus_per_node=job.gpus_per_node, cpus_per_node=job.cpus_per_node,
                               time_limit_s=job.time_limit_s,
                               tier=self.config.partition(job.partition).priority_tier,
                               priority=run.priority))
        return queue_order(out)

    def _holdings(self) -> list[Holding]:
        out = []
        for key in sorted(self.state.running):
            run = self.state.runs[key]
            part = self.config.partition(run.job.partition)
            assert run.start_s is not None
            out.append(Holding(key=key, nodes=run.nodes, gpus_per_node=run.job.gpus_per_node,
                               cpus_per_node=run.job.cpus_per_node, start_s=run.start_s,
                               expected_end_s=run.start_s + run.job.time_limit_s,
                               tier=part.priority_tier, priority=run.priority,
                               preemptable=part.preempt_mode != "off", order=run.order))
        return out


def predict(jobs: Sequence[SlurmJob], config: SlurmConfig, *, timing: Timing = Timing(),
            fairshare: Mapping[str, float] | None = None) -> list[PredictedJob]:
    """Predicted start and end of every job (in input order)."""
    return SlurmModel(jobs, config, timing=timing, fairshare=fairshare).run()

"""The contract between the cluster-scheduling engine and its policies.

A *placement* is the node index of each GPU a job holds, sorted: ``(0, 0, 3, 3)`` is
two GPUs on node 0 and two on node 3 (the Pollux artifact's allocation lists use the
same convention). An empty tuple means the job holds nothing (queued or preempted).

At every scheduling round the engine calls :meth:`Policy.schedule` with a view of each
active job (submitted, not finished) and of the cluster; the policy returns the
placement every job should hold from now on. A job whose placement changes pays a
restart delay (the engine's, e.g. 30 s in the Pollux artifact) before it progresses
again; a job left out of the mapping holds nothing.

Job speed never comes from a fixed duration alone: :meth:`JobView.throughput` gives
the progress rate a placement would get (from application profiles, or from a trace
duration with a locality slowdown from :mod:`mlfleet.comm`'s collective models), so a
policy can weigh packing against spreading.

The engine owns this module's evolution: it may add fields and methods; it never
renames or removes one (policies in other modules depend on them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

Placement = tuple[int, ...]
"""Node index of each GPU held, sorted; ``()`` holds nothing."""


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """One submitted job, as a workload file or trace gives it."""

    name: str
    submit_s: float
    """Submission time, seconds from the start of the workload."""
    gpus: int
    """GPUs requested (the Pollux workloads' ``num_replicas``); >= 1."""
    application: str | None = None
    """Profiled application (cifar10, imagenet, bert, ...) whose measured step times and
    statistical efficiency give the job's speed; None for a trace job with a duration."""
    batch_size: int | None = None
    """Total batch size requested (profiled applications)."""
    duration_s: float | None = None
    """Run time on ``gpus`` GPUs packed on as few nodes as possible (trace jobs)."""
    time_limit_s: float | None = None
    """Wall-time limit the user declared (Slurm backfill plans with it); None: none."""
    team: str = "default"
    """Tenant / account / Kueue queue the job is charged to."""
    priority: int = 0
    """Priority class value (Kubernetes) or QOS/partition priority (Slurm); higher first."""
    partition: str = "default"
    """Slurm partition (preemption between partitions goes by partition priority)."""
    min_gpus: int | None = None
    """Elastic jobs: fewest GPUs it can run on (None: exactly ``gpus``)."""
    max_gpus: int | None = None
    """Elastic jobs: most GPUs it can use (None: exactly ``gpus``)."""
    gpu_fraction: float = 1.0
    """MIG slice or time-slice share of one GPU the job needs (1.0: whole GPUs)."""


@dataclass(frozen=True, kw_only=True)
class ClusterView:
    """The machines at a scheduling round."""

    nodes: int
    gpus_per_node: int
    free_gpus: tuple[int, ...] = ()
    """Free GPUs per node *before* this round's decisions, given the current placements."""

    @property
    def gpus(self) -> int:
        """Total GPUs."""
        return self.nodes * self.gpus_per_node


@dataclass(kw_only=True)
class JobView:
    """What a policy may read about an active job at a scheduling round."""

    spec: JobSpec
    placement: Placement
    """What it holds now (``()`` when queued or preempted)."""
    age_s: float
    """Seconds since submission."""
    attained_service_gpu_s: float
    """GPU-seconds received so far (Tiresias' 2D-LAS attained service)."""
    executed_s: float
    """Seconds it has held GPUs so far."""
    progress: float
    """Fraction of its work done, in [0, 1]."""
    restarts: int = 0
    """Times its placement changed after it first started."""
    preemptions: int = 0
    """Times it was stopped with work left."""
    first_start_s: float | None = None
    """When it first held GPUs (None: never yet)."""
    order: int = 0
    """Position in the workload (submission order; equal submit times keep file order)."""
    throughput: Callable[[Placement], float] = field(repr=False, default=lambda p: 0.0)
    """Progress per second (fraction of the job per second) the placement would give."""
    remaining_s: Callable[[Placement], float] = field(repr=False, default=lambda p: float("inf"))
    """Oracle seconds left on a placement (Optimus+Oracle, SJF with known sizes)."""


class Policy(Protocol):
    """A scheduling policy: decides every active job's placement at each round."""

    name: str
    interval_s: float
    """Seconds between scheduling rounds (60 s in the Pollux artifact)."""

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """The placement each job (by name) should hold from ``now_s``; absent = none."""
        ...


class QuietPolicy(Policy, Protocol):
    """A policy that can tell the engine when its decisions may next change.

    Optional: the engine runs a round every ``interval_s`` while jobs are active, but when
    the policy also has :meth:`quiet_until_s` it skips the rounds before that time in
    which no job arrives or finishes (rounds stay on the ``interval_s`` grid).
    """

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """Earliest time (s) the placements could change with no arrival or finish;
        ``now_s + interval_s`` (or less) means "do not skip"; ``inf``: never by itself."""
        ...


@dataclass(frozen=True, kw_only=True)
class JobRecord:
    """How one job went: the per-job row of a simulation's result."""

    name: str
    submit_s: float
    start_s: float | None
    """First time it held GPUs (None: never started before the run ended)."""
    finish_s: float | None
    """Completion time (None: unfinished)."""
    gpus: int
    team: str = "default"
    restarts: int = 0
    preemptions: int = 0
    isolated_s: float | None = None
    """Run time alone on an empty cluster at its requested GPUs, packed, with no restart
    delay (the ideal T_id of finish-time fairness); None when the speed model has none."""
    gpu_s: float = 0.0
    """GPU-seconds it held until it finished (restart delays included; the wait for the
    next round, when its GPUs are released, is not)."""
    application: str | None = None
    """Profiled application, from its spec (None for trace jobs)."""

    @property
    def jct_s(self) -> float | None:
        """Job completion time, finish - submit."""
        return None if self.finish_s is None else self.finish_s - self.submit_s

    @property
    def queueing_s(self) -> float | None:
        """Queueing delay before the first start."""
        return None if self.start_s is None else self.start_s - self.submit_s

"""The ``slurm`` policy for ``mlfleet sim cluster``: Slurm's semantics at each round.

Each round is one slurmctld cycle: priorities from the multifactor plugin (age, Fair
Tree fair-share over teams, job size, partition, and the job's ``priority`` as its QOS),
a main pass in queue order, then a backfill pass that plans with declared time limits,
and partition-tier preemption (a preempted job is requeued: the engine gives it nothing
until a later round starts it again). Running jobs keep their nodes.

Mapping from the engine's jobs: a job of ``g`` GPUs on nodes of ``G`` takes one node if
``g <= G``, else ``ceil(g / G)`` whole nodes. Its time limit is ``spec.time_limit_s`` or
``default_time_limit_s`` (Slurm's DefaultTime). Fair-share usage is the GPU-seconds each
team's jobs have received (the policy remembers finished jobs' usage), without decay.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mlfleet.errors import InputError
from mlfleet.infra.scheduling.policies.options import build
from mlfleet.infra.scheduling.slurm.allocation import FreeNodes, Holding, Request, queue_order
from mlfleet.infra.scheduling.slurm.backfill import backfill_pass
from mlfleet.infra.scheduling.slurm.config import Partition, PriorityWeights
from mlfleet.infra.scheduling.slurm.fairshare import Assoc, fair_tree
from mlfleet.infra.scheduling.slurm.main_scheduler import main_pass
from mlfleet.infra.scheduling.slurm.priority import (
    PriorityFactors,
    age_factor,
    job_priority,
    job_size_factor,
    ratio_factor,
)
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement

DEFAULT_WEIGHTS = PriorityWeights(age=1000, fairshare=1000, job_size=1000, partition=1000,
                                  qos=1000)


class SlurmPolicy:
    """Slurm (multifactor priority, main scheduler, backfill, preemption) as a Policy."""

    name = "slurm"

    def __init__(self, *, interval_s: float = 60.0,
                 partitions: Sequence[Partition] = (Partition(name="default"),),
                 weights: PriorityWeights = DEFAULT_WEIGHTS, easy: bool = False,
                 default_time_limit_s: float = 86400.0) -> None:
        if not interval_s > 0:
            raise InputError(f"interval_s(={interval_s}) must be > 0")
        self.interval_s = interval_s
        self.partitions = {p.name: p for p in partitions}
        self.weights = weights
        self.reservations = 1 if easy else None
        self.default_time_limit_s = default_time_limit_s
        self._seen_usage: dict[str, tuple[str, float]] = {}

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Keep running jobs (unless preempted), start what the passes allow."""
        free = FreeNodes(nodes=cluster.nodes, gpus_per_node=cluster.gpus_per_node,
                         cpus_per_node=cluster.gpus_per_node or 1)
        running = [j for j in jobs if j.placement]
        for view in running:
            for node in view.placement:
                free.gpus[node] -= 1
                free.cpus[node] -= 1
        holdings = [self._holding(now_s, v, cluster) for v in running]
        shares = self._fairshare(jobs)
        top_qos = max((j.spec.priority for j in jobs), default=0)
        pending = queue_order([self._request(i, v, cluster, shares, top_qos)
                               for i, v in enumerate(jobs) if not v.placement])
        out: dict[str, Placement] = {v.spec.name: v.placement for v in running}
        main = main_pass(pending=pending, holdings=holdings, free=free)
        for victims in main.preemptions.values():
            for victim in victims:
                out.pop(victim.key, None)
        by_key = {v.spec.name: v for v in jobs}
        for key, nodes in main.starts.items():
            out[key] = _placement(nodes, by_key[key].spec.gpus, cluster.gpus_per_node)
        rest = [r for r in pending if r.key not in main.starts]
        bf = backfill_pass(now_s=now_s, pending=rest, holdings=holdings, free=free,
                           reservations=self.reservations)
        for slot in bf.starts:
            out[slot.key] = _placement(slot.nodes, by_key[slot.key].spec.gpus,
                                       cluster.gpus_per_node)
        return out

    def _partition(self, name: str) -> Partition:
        if name not in self.partitions:
            raise InputError(f"partition {name!r} is not configured for the slurm policy; "
                             f"known: {', '.join(self.partitions)}")
        return self.partitions[name]

    def _shape(self, gpus: int, gpus_per_node: int) -> tuple[int, int]:
        if gpus <= gpus_per_node:
            return 1, gpus
        return math.ceil(gpus / gpus_per_node), gpus_per_node

    def _limit(self, view: JobView) -> float:
        return view.spec.time_limit_s or self.default_time_limit_s

    def _request(self, order: int, view: JobView, cluster: ClusterView,
                 shares: Mapping[str, float], top_qos: int) -> Request:
        nodes, per_node = self._shape(view.spec.gpus, cluster.gpus_per_node)
        part = self._partition(view.spec.partition)
        factors = PriorityFactors(
            age=age_factor(view.age_s, max_age_s=self.weights.max_age_s),
            fairshare=shares.get(view.spec.team, 0.0),
            job_size=job_size_factor(nodes=nodes, cpus=view.spec.gpus,
                                     cluster_nodes=cluster.nodes, cluster_cpus=cluster.gpus,
                                     favor_small=self.weights.favor_small),
            partition=ratio_factor(part.priority_job_factor,
                                   max(p.priority_job_factor for p in self.partitions.values())),
            qos=ratio_factor(max(view.spec.priority, 0), top_qos))
        return Request(key=view.spec.name, order=order, submit_s=view.spec.submit_s, nodes=nodes,
                       gpus_per_node=per_node, cpus_per_node=per_node,
                       time_limit_s=self._limit(view), tier=part.priority_tier,
                       priority=job_priority(factors, self.weights))

    def _holding(self, now_s: float, view: JobView, cluster: ClusterView) -> Holding:
        part = self._partition(view.spec.partition)
        counts = {n: view.placement.count(n) for n in set(view.placement)}
        start_s = now_s - view.executed_s
        return Holding(key=view.spec.name, nodes=tuple(sorted(counts)),
                       gpus_per_node=max(counts.values()), cpus_per_node=max(counts.values()),
                       start_s=start_s, expected_end_s=start_s + self._limit(view),
                       tier=part.priority_tier, priority=view.spec.priority,
                       preemptable=part.preempt_mode != "off")

    def _fairshare(self, jobs: Sequence[JobView]) -> dict[str, float]:
        for view in jobs:
            self._seen_usage[view.spec.name] = (view.spec.team, view.attained_service_gpu_s)
        usage: dict[str, float] = {}
        for team, used in self._seen_usage.values():
            usage[team] = usage.get(team, 0.0) + used
        rows = fair_tree(Assoc(name="root", children=tuple(
            Assoc(name=team, usage_raw=used) for team, used in sorted(usage.items()))))
        return {key.split("/", 1)[1]: r.fairshare for key, r in rows.items()
                if r.fairshare is not None}


def _placement(nodes: Sequence[int], gpus: int, gpus_per_node: int) -> Placement:
    """``gpus`` GPUs over ``nodes``, filling each node in turn, as a sorted placement."""
    out: list[int] = []
    for node in nodes:
        take = min(gpus_per_node, gpus - len(out))
        out.extend([node] * take)
    return tuple(sorted(out))


def make(**options: Any) -> SlurmPolicy:
    """The POLICIES factory: keyword options of :class:`SlurmPolicy`; an unknown one is an
    error naming the known ones."""
    return build(SlurmPolicy, "slurm", options)

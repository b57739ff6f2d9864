"""Kubernetes semantics for training jobs: gang scheduling, priority classes, preemption.

- Gang scheduling (as the coscheduling plugin / Volcano / Kueue admit a PodGroup): a job
  gets all the GPUs it asks for or none; its GPUs may sit on any nodes (the default
  scheduler knows nothing of collectives: spread jobs pay the engine's locality slowdown).
- Priority classes: the queue is ordered by priority, then submission (kube-scheduler's
  active queue); a pending job that does not fit preempts strictly lower-priority jobs,
  chosen by :func:`~mlfleet.infra.scheduling.policies.preemption.victims`; it never
  preempts equal or higher priority. ``preemption=False`` is ``preemptionPolicy: Never``.
- Jobs with ``gpu_fraction < 1`` land on MIG instances of ``mig_gpu``
  (:mod:`mlfleet.infra.scheduling.policies.mig`), packed best fit on GPUs already in
  MIG mode; they neither preempt nor are preempted (simplification). Every other job
  takes whole GPUs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlfleet.checks import positive
from mlfleet.infra.scheduling.placement import free_after, give_back, pack, take
from mlfleet.infra.scheduling.policies.list_scheduling import quiet_forever
from mlfleet.infra.scheduling.policies.mig import MigPool
from mlfleet.infra.scheduling.policies.options import PolicyOptionError, build
from mlfleet.infra.scheduling.policies.preemption import victims
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement


def _fractional(job: JobView) -> bool:
    return job.spec.gpu_fraction < 1.0


def by_priority(job: JobView) -> tuple[int, float, int]:
    """kube-scheduler's queue order: higher priority first, then older."""
    return (-job.spec.priority, job.spec.submit_s, job.order)


class KubernetesPolicy:
    """Gang scheduling with priority classes and preemption."""

    name = "kubernetes"

    def __init__(self, *, interval_s: float = 60.0, preemption: bool = True,
                 mig_gpu: str = "A100-40GB") -> None:
        self.interval_s = positive("interval_s", interval_s, error=PolicyOptionError)
        """Seconds between scheduling rounds."""
        if not isinstance(preemption, bool):
            raise PolicyOptionError(f"policy 'kubernetes': preemption(={preemption!r}) must "
                                    "be true or false")
        self.preemption = preemption
        """Whether a pending job may stop lower-priority ones."""
        self.mig = MigPool(mig_gpu)
        """Where the fractional jobs' MIG instances are."""

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Running jobs keep their GPUs unless preempted; pending ones go by priority."""
        by_name = {j.spec.name: j for j in jobs}
        shared = {j.spec.name: j.placement for j in jobs if j.placement and _fractional(j)}
        self.mig.sync(set(shared))
        held = {j.spec.name: j.placement for j in jobs if j.placement and not _fractional(j)}
        free = free_after(cluster, held.values())
        free = [f - m for f, m in zip(free, self.mig.mig_gpus(cluster.nodes), strict=True)]
        queue = sorted((j for j in jobs if not j.placement), key=by_priority)
        while queue:
            job = queue.pop(0)
            if _fractional(job):
                placement = self.mig.place(job.spec.name, job.spec.gpus, job.spec.gpu_fraction,
                                           free)
                if placement is not None:
                    shared[job.spec.name] = placement
                continue
            placement = pack(free, job.spec.gpus)
            if placement is None and self.preemption:
                stopped = self._preempt(job, held, by_name, free)
                # victims rejoin the queue at their priority (a strictly lower one, so
                # chains of preemption end)
                queue = sorted(queue + [by_name[n] for n in stopped], key=by_priority)
                placement = pack(free, job.spec.gpus)
            if placement is not None:
                take(free, placement)
                held[job.spec.name] = placement
        return held | shared

    @staticmethod
    def _preempt(job: JobView, held: dict[str, Placement], by_name: Mapping[str, JobView],
                 free: list[int]) -> list[str]:
        """Stop the victims that make room for ``job`` (mutating ``held`` and ``free``)."""
        stop = victims(job, held, by_name, free) or []
        for name in stop:
            give_back(free, held.pop(name))
        return stop

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """Never by itself: decisions change only when a job arrives or finishes."""
        return quiet_forever(now_s, jobs, cluster)


def make(**options: Any) -> KubernetesPolicy:
    """A :class:`KubernetesPolicy` from keyword options (``interval_s``, ``preemption``,
    ``mig_gpu``)."""
    return build(KubernetesPolicy, "kubernetes", options)

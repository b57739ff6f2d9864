"""Tiresias: discretised two-dimensional least-attained-service (2D-LAS).

Gu et al., "Tiresias: A GPU Cluster Manager for Distributed Deep Learning", NSDI'19,
Sec. 3-4, as the Pollux artifact configures it (``simulator/tiresias.py``; Qiao et al.,
OSDI'21, Sec. 5.3): two priority queues; a job enters the first and moves to the end of
the second once its attained service (seconds held x GPUs asked) reaches 16 GPU-hours.
Each round walks the first queue then the second in order: a job runs if its GPUs fit
in what is left of the cluster's total, else it is preempted / stays queued (later,
smaller jobs may still run). Running jobs keep their GPUs; a newly running job takes
GPUs from the nodes with the most free, fewest nodes first (ties: lowest node index).
Starvation promotion is off, as in the artifact's configuration.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from mlfleet.checks import positive
from mlfleet.infra.scheduling.policies.greedy import most_free_first
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement

DEMOTION_GPU_S = 16 * 3600.0
"""Attained service (GPU-seconds) that moves a job to the low-priority queue."""


class TiresiasPolicy:
    """Two-queue discretised 2D-LAS (a :class:`~..types.QuietPolicy`)."""

    name = "tiresias"

    def __init__(self, *, interval_s: float = 60.0,
                 threshold_gpu_s: float = DEMOTION_GPU_S) -> None:
        self.interval_s = positive("interval_s", interval_s)
        """Seconds between scheduling rounds."""
        self.threshold_gpu_s = positive("threshold_gpu_s", threshold_gpu_s)
        """Attained service (GPU-s) at which a job is demoted to the second queue."""
        self._high: list[str] = []
        """First queue (job names, in order of arrival)."""
        self._low: list[str] = []
        """Second queue (in order of demotion)."""
        self._members: set[str] = set()
        self._demoted: set[str] = set()
        self._next_demotion_s = math.inf

    def _update_queues(self, jobs: Sequence[JobView]) -> None:
        high, low, members = self._high, self._low, self._members
        for job in jobs:
            if job.spec.name not in members:
                members.add(job.spec.name)
                high.append(job.spec.name)
        if len(members) != len(jobs):  # some finished
            active = {j.spec.name for j in jobs}
            self._high = high = [n for n in high if n in active]
            self._low = low = [n for n in low if n in active]
            self._members = active
        demoted = [j.spec.name for j in jobs if j.placement and j.spec.name not in self._demoted
                   and self._service(j) >= self.threshold_gpu_s]
        if demoted:
            self._demoted.update(demoted)
            self._high = [n for n in high if n not in self._demoted]
            low.extend(demoted)

    @staticmethod
    def _service(job: JobView) -> float:
        """Attained service as Tiresias counts it: seconds held x GPUs asked."""
        return math.floor(job.executed_s) * job.spec.gpus

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Placements for this round (see the module docstring)."""
        self._update_queues(jobs)
        by_name = {j.spec.name: j for j in jobs}
        left = cluster.gpus
        running: list[JobView] = []
        for name in self._high + self._low:
            job = by_name[name]
            if job.spec.gpus <= left:
                running.append(job)
                left -= job.spec.gpus
        self._next_demotion_s = min(
            (now_s + self.threshold_gpu_s / j.spec.gpus - j.executed_s for j in running
             if j.spec.name not in self._demoted), default=math.inf)
        return most_free_first(running, cluster, lambda j: j.spec.gpus)

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """The next time a running first-queue job reaches the demotion threshold."""
        return self._next_demotion_s


def make(*, interval_s: float = 60.0, threshold_gpu_s: float = DEMOTION_GPU_S) -> TiresiasPolicy:
    """A :class:`TiresiasPolicy` (``threshold_gpu_s`` defaults to 16 GPU-hours)."""
    return TiresiasPolicy(interval_s=interval_s, threshold_gpu_s=threshold_gpu_s)

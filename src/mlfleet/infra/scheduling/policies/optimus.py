"""Optimus+Oracle: GPUs to the jobs whose remaining time they shorten most.

Peng et al., "Optimus: An Efficient Dynamic Resource Scheduler for Deep Learning
Clusters", EuroSys'18, Sec. 4 (marginal-gain allocation), with an oracle for the work
left, as the Pollux artifact runs it (Qiao et al., OSDI'21, Sec. 5.3: "Optimus+Oracle"):
every active job first gets one GPU (in workload order, while GPUs last); then each
remaining GPU goes, one at a time, to the job with the largest gain
``remaining_s(n GPUs packed) - remaining_s(n + 1 packed)`` (ties: workload order), up
to the job's ``max_gpus``. Jobs keep their GPUs when their count is unchanged; the
others are placed smallest first on the nodes with the most free GPUs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mlfleet.checks import positive
from mlfleet.infra.scheduling.policies.greedy import most_free_first
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement


def packed(gpus: int, gpus_per_node: int) -> Placement:
    """``gpus`` GPUs packed on the first nodes: ``(0, 0, 0, 0, 1)`` for 5 on 4-GPU nodes."""
    return tuple(i // gpus_per_node for i in range(gpus))


class OptimusPolicy:
    """Marginal-gain GPU allocation with oracle remaining time."""

    name = "optimus"

    def __init__(self, *, interval_s: float = 60.0) -> None:
        self.interval_s = positive("interval_s", interval_s)
        """Seconds between scheduling rounds."""

    @staticmethod
    def _gain(job: JobView, gpus: int, gpus_per_node: int) -> float:
        """Seconds of remaining time one more GPU saves."""
        now = job.remaining_s(packed(gpus, gpus_per_node))
        return now - job.remaining_s(packed(gpus + 1, gpus_per_node))

    def _counts(self, jobs: Sequence[JobView], cluster: ClusterView) -> dict[str, int]:
        left, per_node = cluster.gpus, cluster.gpus_per_node
        count: dict[str, int] = {}
        gain: dict[str, float] = {}
        cap = {j.spec.name: j.spec.max_gpus or j.spec.gpus for j in jobs}
        for job in jobs:
            name = job.spec.name
            count[name] = 1 if left >= 1 else 0
            left -= count[name]
            worth = count[name] and count[name] + 1 <= cap[name] and left >= 1
            gain[name] = self._gain(job, 1, per_node) if worth else 0.0
        by_name = {j.spec.name: j for j in jobs}
        while left > 0 and gain and max(gain.values()) > 0:
            name = max(gain, key=gain.__getitem__)
            count[name] += 1
            left -= 1
            more = count[name] + 1 <= cap[name]
            gain[name] = self._gain(by_name[name], count[name], per_node) if more else 0.0
        return count

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Placements for this round (see the module docstring)."""
        count = self._counts(jobs, cluster)
        chosen = sorted((j for j in jobs if count[j.spec.name] > 0),
                        key=lambda j: count[j.spec.name])
        return most_free_first(chosen, cluster, lambda j: count[j.spec.name])


def make(*, interval_s: float = 60.0) -> OptimusPolicy:
    """An :class:`OptimusPolicy`."""
    return OptimusPolicy(interval_s=interval_s)

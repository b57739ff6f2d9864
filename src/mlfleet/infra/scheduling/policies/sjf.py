"""Shortest job first, by oracle remaining time or by requested GPU time.

- ``size="remaining"``: the oracle's seconds left on the job's requested GPUs packed
  (``JobView.remaining_s``) — the classic SJF, which minimises mean completion time of
  jobs all present at time 0 on one machine (Smith's rule with unit weights; Smith,
  Naval Res. Logist. Q. 3, 1956).
- ``size="gpu_time"``: GPUs × the time the user declared (``time_limit_s``; the oracle
  time where none is declared): the "smallest requested GPU time" a scheduler can
  compute without an oracle (Tiresias, NSDI'19, Sec. 2.2 discusses why the oracle is
  unavailable in practice).

Non-preemptive by default (a started job runs to completion; a job that does not fit
is skipped, so small jobs pass a blocked big one); ``preemptive=True`` re-sorts every
round and stops longer jobs for shorter ones (shortest remaining time first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlfleet.checks import positive
from mlfleet.infra.scheduling.placement import pack
from mlfleet.infra.scheduling.policies.list_scheduling import (
    list_schedule,
    non_preemptive,
    quiet_forever,
)
from mlfleet.infra.scheduling.policies.options import PolicyOptionError, build, choice
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement

SIZES = ("remaining", "gpu_time")


def ideal_placement(job: JobView, cluster: ClusterView) -> Placement:
    """The job's requested GPUs packed on an empty cluster (its isolated placement)."""
    placement = pack([cluster.gpus_per_node] * cluster.nodes, job.spec.gpus)
    assert placement is not None, f"job {job.spec.name} is larger than the cluster"
    return placement


class SjfPolicy:
    """Shortest job first; see the module docstring for the two sizes."""

    name = "sjf"

    def __init__(self, *, interval_s: float = 60.0, size: str = "remaining",
                 preemptive: bool = False) -> None:
        self.interval_s = positive("interval_s", interval_s, error=PolicyOptionError)
        """Seconds between scheduling rounds."""
        self.size = choice(self.name, "size", size, SIZES)
        """What "short" means: ``remaining`` oracle seconds or requested ``gpu_time``."""
        if not isinstance(preemptive, bool):
            raise PolicyOptionError(f"policy 'sjf': preemptive(={preemptive!r}) must be "
                                    "true or false")
        self.preemptive = preemptive
        """Stop a running job for a shorter one (SRTF) instead of letting it finish."""

    def job_size(self, job: JobView, cluster: ClusterView) -> float:
        """The sort key: seconds left (``remaining``) or GPU-seconds asked (``gpu_time``)."""
        if self.size == "gpu_time" and job.spec.time_limit_s is not None:
            return job.spec.gpus * job.spec.time_limit_s
        left = job.remaining_s(ideal_placement(job, cluster))
        return left if self.size == "remaining" else job.spec.gpus * left

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Shortest first; running jobs first unless ``preemptive``."""
        sizes = {j.spec.name: self.job_size(j, cluster) for j in jobs
                 if self.preemptive or not j.placement}

        def key(job: JobView) -> tuple[float, int]:
            return (sizes[job.spec.name], job.order)

        if self.preemptive:
            return list_schedule(sorted(jobs, key=key), cluster, blocking=False)
        return non_preemptive(jobs, cluster, key=key, blocking=False)

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """Never by itself: the order changes only when a job arrives or finishes (running
        jobs only get shorter, so they never fall behind a queued one)."""
        return quiet_forever(now_s, jobs, cluster)


def make(**options: Any) -> SjfPolicy:
    """An :class:`SjfPolicy` from keyword options (``interval_s``, ``size``, ``preemptive``)."""
    return build(SjfPolicy, "sjf", options)

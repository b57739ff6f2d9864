"""First in, first out: jobs start in submission order and run to completion.

Strict FIFO, no backfilling: when the oldest queued job does not fit, nothing behind it
starts either, even a job that would fit (head-of-line blocking); running jobs are
never preempted. The baseline every GPU-cluster scheduler paper compares against
(e.g. Tiresias, NSDI'19, Sec. 2; Gandiva, OSDI'18, Sec. 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlfleet.checks import positive
from mlfleet.infra.scheduling.policies.list_scheduling import (
    by_submission,
    non_preemptive,
    quiet_forever,
)
from mlfleet.infra.scheduling.policies.options import PolicyOptionError, build
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement


class FifoPolicy:
    """Strict FIFO with jobs packed on the fewest nodes."""

    name = "fifo"

    def __init__(self, *, interval_s: float = 60.0) -> None:
        self.interval_s = positive("interval_s", interval_s, error=PolicyOptionError)
        """Seconds between scheduling rounds."""

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Running jobs keep their GPUs; queued ones start oldest first until one does not fit."""
        return non_preemptive(jobs, cluster, key=by_submission, blocking=True)

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """Never by itself: FIFO decides only when a job arrives or finishes."""
        return quiet_forever(now_s, jobs, cluster)


def make(**options: Any) -> FifoPolicy:
    """A :class:`FifoPolicy` from keyword options (``interval_s``)."""
    return build(FifoPolicy, "fifo", options)

"""Locality-aware placement: wait a while for a placement on few nodes, as delay
scheduling does (Zaharia et al., "Delay Scheduling", EuroSys'10).

Jobs go oldest first (FIFO, skipping a job that does not fit). For each, the candidate
placements on the free GPUs (packed on the fewest nodes, or spread) are compared by the
engine's speed model, ``JobView.throughput``: the fastest is taken if it runs at least
``1 / max_slowdown`` as fast as the job's ideal placement (its GPUs packed on an empty
cluster); otherwise the job waits for GPUs to free up on fewer nodes, unless it has
waited ``max_wait_s`` already, when it takes the fastest placement there is. Tiresias
(NSDI'19, Sec. 4.2) makes the same trade with a consolidation threshold per model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlfleet.checks import non_negative, positive
from mlfleet.infra.scheduling.placement import fastest, free_after, pack, spread, take
from mlfleet.infra.scheduling.policies.list_scheduling import by_submission
from mlfleet.infra.scheduling.policies.options import PolicyOptionError, build
from mlfleet.infra.scheduling.policies.sjf import ideal_placement
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement


class LocalityPolicy:
    """FIFO with skipping, holding out for fast placements up to ``max_wait_s``."""

    name = "locality"

    def __init__(self, *, interval_s: float = 60.0, max_slowdown: float = 1.1,
                 max_wait_s: float = 1800.0) -> None:
        self.interval_s = positive("interval_s", interval_s, error=PolicyOptionError)
        """Seconds between scheduling rounds."""
        if not isinstance(max_slowdown, int | float) or not max_slowdown >= 1.0:
            raise PolicyOptionError(f"policy 'locality': max_slowdown(={max_slowdown!r}) must "
                                    "be a number >= 1")
        self.max_slowdown = float(max_slowdown)
        """Accept a placement at most this much slower than the ideal one."""
        self.max_wait_s = non_negative("max_wait_s", max_wait_s, error=PolicyOptionError)
        """After waiting this long a job takes any placement."""

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Running jobs keep their GPUs; queued ones start where it is fast enough."""
        held = {j.spec.name: j.placement for j in jobs if j.placement}
        free = free_after(cluster, held.values())
        for job in sorted((j for j in jobs if not j.placement), key=by_submission):
            best = fastest([pack(free, job.spec.gpus), spread(free, job.spec.gpus)],
                           job.throughput)
            if best is None or not self.accepts(job, best, cluster):
                continue
            take(free, best)
            held[job.spec.name] = best
        return held

    def accepts(self, job: JobView, placement: Placement, cluster: ClusterView) -> bool:
        """Fast enough against the ideal placement, or waited long enough."""
        if job.age_s >= self.max_wait_s:
            return True
        ideal = job.throughput(ideal_placement(job, cluster))
        return job.throughput(placement) * self.max_slowdown >= ideal

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """When the next waiting job runs out of patience (else an arrival or finish)."""
        deadlines = [now_s - j.age_s + self.max_wait_s for j in jobs
                     if not j.placement and j.age_s < self.max_wait_s]
        return min(deadlines, default=float("inf"))


def make(**options: Any) -> LocalityPolicy:
    """A :class:`LocalityPolicy` from keyword options (``interval_s``, ``max_slowdown``,
    ``max_wait_s``)."""
    return build(LocalityPolicy, "locality", options)

"""Elastic jobs: grow into idle GPUs, shrink under contention.

A job declares ``min_gpus``/``max_gpus`` (``bounds="declared"``; a job without them is
rigid at ``gpus``), or every job is taken as elastic between half and double its
request (``bounds="half_double"``, to study elasticity on rigid workloads). Each round:

1. queued jobs are admitted oldest first at their *minimum*; when too few GPUs are
   idle, elastic jobs above their minimum give GPUs back, the largest surplus first
   (shrink under contention) — but only if that makes room for the whole minimum;
2. idle GPUs then go one at a time to the job whose progress rate gains most from one
   more GPU (the engine's speed model, ``JobView.throughput`` on packed placements;
   the marginal-gain greedy of Optimus, Peng et al., EuroSys'18, Sec. 4.1), up to each
   job's maximum;
3. jobs whose GPU count did not change keep their placement; the others are packed.

Each change of count is a restart in the engine (its restart delay), so counts change
only when a job arrives or finishes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlfleet.checks import positive
from mlfleet.infra.scheduling.placement import pack, take
from mlfleet.infra.scheduling.policies.list_scheduling import by_submission, quiet_forever
from mlfleet.infra.scheduling.policies.options import PolicyOptionError, build, choice
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement

BOUNDS = ("declared", "half_double")


class ElasticPolicy:
    """FIFO admission at the minimum, marginal-gain growth, shrink for newcomers."""

    name = "elastic"

    def __init__(self, *, interval_s: float = 60.0, bounds: str = "declared") -> None:
        self.interval_s = positive("interval_s", interval_s, error=PolicyOptionError)
        """Seconds between scheduling rounds."""
        self.bounds = choice(self.name, "bounds", bounds, BOUNDS)
        """Where each job's GPU range comes from (see the module docstring)."""

    def range_of(self, job: JobView, cluster: ClusterView) -> tuple[int, int]:
        """Fewest and most GPUs ``job`` may hold."""
        gpus = job.spec.gpus
        if self.bounds == "half_double":
            return (max(1, gpus // 2), min(2 * gpus, cluster.gpus))
        return (job.spec.min_gpus or gpus, min(job.spec.max_gpus or gpus, cluster.gpus))

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """GPU counts by admission, shrink and growth; then placements."""
        ranges = {j.spec.name: self.range_of(j, cluster) for j in jobs}
        counts = {j.spec.name: len(j.placement) for j in jobs if j.placement}
        for job in sorted((j for j in jobs if not j.placement), key=by_submission):
            low = ranges[job.spec.name][0]
            if _idle(counts, cluster) < low:
                _shrink(counts, ranges, low - _idle(counts, cluster))
            if _idle(counts, cluster) >= low:
                counts[job.spec.name] = low
        _grow(counts, ranges, {j.spec.name: j for j in jobs}, cluster)
        return _placements(jobs, counts, cluster)

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """Never by itself: counts change only when a job arrives or finishes."""
        return quiet_forever(now_s, jobs, cluster)


def _idle(counts: Mapping[str, int], cluster: ClusterView) -> int:
    return cluster.gpus - sum(counts.values())


def _shrink(counts: dict[str, int], ranges: Mapping[str, tuple[int, int]], need: int) -> None:
    """Take ``need`` GPUs from the largest surpluses over the minimum, if they suffice."""
    surplus = {n: c - ranges[n][0] for n, c in counts.items() if c > ranges[n][0]}
    if sum(surplus.values()) < need:
        return
    for _ in range(need):
        name = max(surplus, key=lambda n: (surplus[n], n))
        surplus[name] -= 1
        counts[name] -= 1


def _grow(counts: dict[str, int], ranges: Mapping[str, tuple[int, int]],
          jobs: Mapping[str, JobView], cluster: ClusterView) -> None:
    """Idle GPUs one by one to the largest marginal gain in progress rate."""
    empty = [cluster.gpus_per_node] * cluster.nodes
    rates: dict[tuple[str, int], float] = {}

    def rate(name: str, gpus: int) -> float:
        if (name, gpus) not in rates:
            placement = pack(empty, gpus)
            rates[name, gpus] = jobs[name].throughput(placement) if placement else 0.0
        return rates[name, gpus]

    while _idle(counts, cluster) > 0:
        gains = {n: rate(n, c + 1) - rate(n, c) for n, c in counts.items()
                 if c < ranges[n][1]}
        best = max(gains, key=lambda n: (gains[n], n), default=None)
        if best is None or gains[best] <= 0.0:
            return
        counts[best] += 1


def _placements(jobs: Sequence[JobView], counts: Mapping[str, int],
                cluster: ClusterView) -> dict[str, Placement]:
    """Unchanged counts keep their GPUs; changed ones are packed, largest first."""
    free = [cluster.gpus_per_node] * cluster.nodes
    chosen: dict[str, Placement] = {}
    for job in jobs:
        if job.placement and counts.get(job.spec.name) == len(job.placement):
            take(free, job.placement)
            chosen[job.spec.name] = job.placement
    for name in sorted((n for n in counts if n not in chosen), key=lambda n: -counts[n]):
        placement = pack(free, counts[name])
        assert placement is not None, "counts never exceed the cluster"
        take(free, placement)
        chosen[name] = placement
    return chosen


def make(**options: Any) -> ElasticPolicy:
    """An :class:`ElasticPolicy` from keyword options (``interval_s``, ``bounds``)."""
    return build(ElasticPolicy, "elastic", options)

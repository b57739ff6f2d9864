"""List scheduling: place jobs one by one in a priority order (FIFO, SJF, priority classes).

:func:`list_schedule` walks an ordered list of jobs over an empty cluster; a job that
already holds GPUs keeps its placement when those GPUs are still free at its turn (a
changed placement costs the engine's restart delay), any other job is packed
(:func:`~mlfleet.infra.scheduling.placement.pack`). Non-preemptive policies put the
running jobs first in the list, so they always keep their GPUs; preemptive ones order
everybody by their key and let later jobs lose theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mlfleet.infra.scheduling.placement import free_after, pack, take
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement

SortKey = Callable[[JobView], tuple[float, int]]
"""A job's place in a list: smaller first; workload order breaks ties (reproducible)."""


def keeps(free: list[int], placement: Placement) -> bool:
    """True (and ``placement`` taken from ``free``) when all its GPUs are still free."""
    if not placement:
        return False
    try:
        take(free, placement)
    except ValueError:
        return False
    return True


def list_schedule(order: Sequence[JobView], cluster: ClusterView, *, blocking: bool,
                  placer: Callable[[list[int], int], Placement | None] = pack,
                  ) -> dict[str, Placement]:
    """Placements for the jobs of ``order``, earliest first, on ``cluster``.

    ``blocking``: stop at the first job that does not fit (strict FIFO: the head of the
    queue blocks the line); otherwise skip it and try the next.
    """
    free = [cluster.gpus_per_node] * cluster.nodes
    chosen: dict[str, Placement] = {}
    for job in order:
        if len(job.placement) == job.spec.gpus and keeps(free, job.placement):
            chosen[job.spec.name] = job.placement
        elif not _place(job, free, chosen, placer) and blocking:
            break
    return chosen


def _place(job: JobView, free: list[int], chosen: dict[str, Placement],
           placer: Callable[[list[int], int], Placement | None]) -> bool:
    """Place ``job`` on ``free`` GPUs with ``placer`` (taking them); False if it does not fit."""
    placement = placer(free, job.spec.gpus)
    if placement is None:
        return False
    take(free, placement)
    chosen[job.spec.name] = placement
    return True


def non_preemptive(jobs: Sequence[JobView], cluster: ClusterView, *, key: SortKey,
                   blocking: bool) -> dict[str, Placement]:
    """Running jobs keep their GPUs; queued ones are packed in ``key`` order on what is
    free. Same result as :func:`list_schedule` of :func:`running_first`, without
    re-taking every running job's GPUs (``cluster.free_gpus`` already says what is free)."""
    chosen = {j.spec.name: j.placement for j in jobs if j.placement}
    free = list(cluster.free_gpus) if cluster.free_gpus else \
        free_after(cluster, chosen.values())
    for job in sorted((j for j in jobs if not j.placement), key=key):
        if not _place(job, free, chosen, pack) and blocking:
            break
    return chosen


def running_first(jobs: Sequence[JobView], key: SortKey) -> list[JobView]:
    """The running jobs (in ``key`` order), then the queued ones in ``key`` order."""
    running = sorted((j for j in jobs if j.placement), key=key)
    queued = sorted((j for j in jobs if not j.placement), key=key)
    return running + queued


def by_submission(job: JobView) -> tuple[float, int]:
    """FIFO order: submission time, then position in the workload."""
    return (job.spec.submit_s, job.order)


def quiet_forever(now_s: float, jobs: Sequence[JobView], cluster: ClusterView) -> float:
    """``QuietPolicy.quiet_until_s`` of a policy whose decisions change only when a job
    arrives or finishes: never by itself."""
    return float("inf")

"""Choosing preemption victims the way kube-scheduler does, over a whole cluster.

kube-scheduler's default preemption (Kubernetes docs, "Pod Priority and Preemption";
``DefaultPreemption`` plugin) removes every pod of *lower* priority from a candidate
node, checks that the preemptor fits, then reprieves victims one by one from the
highest priority down, keeping each reprieve that still leaves room. A gang job spans
nodes, so here the candidate is the whole cluster rather than one node: all lower-
priority jobs are taken away, and reprieved highest priority first (among equals, the
longest-running first, so the most recently started lose their GPUs). A preempted job
loses all its GPUs (gang: all or nothing). Pods of equal or higher priority are never
victims. PodDisruptionBudgets and graceful termination are not modelled: victims stop
at the round that preempts them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mlfleet.infra.scheduling.placement import give_back, pack, take
from mlfleet.infra.scheduling.types import JobView, Placement

Fits = Callable[[list[int]], bool]
"""Whether the preemptor fits on a free-GPU list."""


def victims(preemptor: JobView, held: Mapping[str, Placement], jobs: Mapping[str, JobView],
            free: list[int], *, fits: Fits | None = None,
            eligible: Callable[[JobView], bool] | None = None) -> list[str] | None:
    """The fewest-priority set of jobs in ``held`` to stop so that ``preemptor`` fits.

    ``eligible`` narrows who may be a victim (default: strictly lower priority);
    ``fits`` defaults to "its GPUs pack on the free ones". Returns None when even
    stopping every eligible job does not make room, ``[]`` when it fits already.
    """
    fits = fits or (lambda f: pack(f, preemptor.spec.gpus) is not None)
    if fits(free):
        return []
    lower = eligible or (lambda j: j.spec.priority < preemptor.spec.priority)
    candidates = [n for n in held if lower(jobs[n])]
    trial = list(free)
    for name in candidates:
        give_back(trial, held[name])
    if not fits(trial):
        return None
    chosen: list[str] = []
    for name in sorted(candidates, key=lambda n: _reprieve_order(jobs[n])):
        take(trial, held[name])
        if not fits(trial):
            give_back(trial, held[name])
            chosen.append(name)
    return chosen


def _reprieve_order(job: JobView) -> tuple[float, float, int]:
    """Highest priority first; among equals the earliest started (it keeps its GPUs)."""
    started = job.first_start_s if job.first_start_s is not None else float("inf")
    return (-job.spec.priority, started, job.order)

"""Partition-priority preemption (``PreemptType=preempt/partition_prio``).

Slurm "Preemption" page (slurm.schedmd.com/preempt.html): a pending job may preempt
running jobs of partitions with a *lower* PriorityTier whose PreemptMode is not OFF;
with REQUEUE the victim goes back to the queue, with CANCEL it ends. Candidates are taken
lowest tier first, then fewest nodes, then job id (preempt/partition_prio ranks a job by
its partition's tier and its node count, not by its priority; on the lab the victims came
in job-id order among equals), one at a time until the
preemptor fits; of those, the ones on nodes the preemptor gets are preempted except any
it can start without (Slurm's default ``reorder_count=1`` retries to preempt fewer; the
lab spared such a job). slurmctld starts the preemptor in the
same pass (the lab showed it starting within a second of its submission).
"""

from __future__ import annotations

from collections.abc import Sequence

from mlfleet.infra.scheduling.slurm.allocation import FreeNodes, Holding, Request


def candidates(request: Request, holdings: Sequence[Holding]) -> list[Holding]:
    """Running jobs ``request`` may preempt, in the order they are taken."""
    lower = [h for h in holdings if h.preemptable and h.tier < request.tier]
    return sorted(lower, key=lambda h: (h.tier, len(h.nodes), h.order))


def victims_for(request: Request, holdings: Sequence[Holding],
                free: FreeNodes) -> list[Holding] | None:
    """The candidates (taken in order until ``request`` fits) on the nodes it gets, less
    those it does not need; None if even all of them would not make room."""
    trial = free.copy()
    taken: list[Holding] = []
    nodes = None
    for victim in candidates(request, holdings):
        trial.give(victim.nodes, victim.gpus_per_node, victim.cpus_per_node)
        taken.append(victim)
        nodes = trial.select(request)
        if nodes is not None:
            break
    if nodes is None:
        return None
    needed = [v for v in taken if set(v.nodes) & set(nodes)]
    return _prune(request, needed, free)


def _prune(request: Request, victims: list[Holding], free: FreeNodes) -> list[Holding]:
    """Spare each victim (last taken first) the request can start without: Slurm's
    ``PreemptParameters=reorder_count=1`` (default) retries to preempt fewer jobs."""
    kept = list(victims)
    for victim in reversed(victims):
        rest = [v for v in kept if v is not victim]
        trial = free.copy()
        for v in rest:
            trial.give(v.nodes, v.gpus_per_node, v.cpus_per_node)
        if trial.select(request) is not None:
            kept = rest
    return kept

"""Partition-priority preemption (``PreemptType=preempt/partition_prio``).

Slurm "Preemption" page (slurm.schedmd.com/preempt.html): a pending job may preempt
running jobs of partitions with a *lower* PriorityTier whose PreemptMode is not OFF;
with REQUEUE the victim goes back to the queue, with CANCEL it ends. The preemptor starts
once the victims have released their nodes. Victims are chosen from the lowest tier and
priority first, youngest first among equals (the model's stated order), and only as
many as the preemptor needs: victims whose nodes it would not use are spared.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlfleet.infra.scheduling.slurm.allocation import FreeNodes, Holding, Request


def candidates(request: Request, holdings: Sequence[Holding]) -> list[Holding]:
    """Running jobs ``request`` may preempt, in the order they are taken."""
    lower = [h for h in holdings if h.preemptable and h.tier < request.tier]
    return sorted(lower, key=lambda h: (h.tier, h.priority, -h.start_s, h.key))


def victims_for(request: Request, holdings: Sequence[Holding],
                free: FreeNodes) -> list[Holding] | None:
    """The fewest candidates (in order) whose nodes let ``request`` start; None if even all
    of them would not make room."""
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
    """Drop victims (last taken first) the request can start without."""
    kept = list(victims)
    for victim in reversed(victims):
        rest = [v for v in kept if v is not victim]
        trial = free.copy()
        for v in rest:
            trial.give(v.nodes, v.gpus_per_node, v.cpus_per_node)
        if trial.select(request) is not None:
            kept = rest
    return kept

"""Slurm's main scheduler pass: start jobs strictly in priority order.

slurmctld runs it at every submission and job completion and every ``sched_interval``
(``schedule()`` in job_scheduler.c). Jobs are tried in queue order (PriorityTier,
priority, submit time, id); the first one that cannot start blocks its partition's nodes
for the rest of the pass, and since the lab's partitions all span every node, the pass
stops there (lower-priority jobs wait for backfill). A blocked job of a higher tier may
preempt lower-tier jobs instead (:mod:`.preemption`) and start at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mlfleet.infra.scheduling.slurm.allocation import FreeNodes, Holding, Request
from mlfleet.infra.scheduling.slurm.preemption import victims_for


@dataclass(kw_only=True)
class MainResult:
    """Jobs the pass starts (key -> nodes) and preemptions it orders (preemptor -> victims);
    a preemptor is among the starts, on nodes its victims free."""

    starts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    preemptions: dict[str, list[Holding]] = field(default_factory=dict)


def main_pass(*, pending: Sequence[Request], holdings: Sequence[Holding],
              free: FreeNodes) -> MainResult:
    """One pass over ``pending`` (in queue order); ``free`` is updated with the starts and
    the victims' release."""
    result = MainResult()
    for request in pending:
        nodes = free.select(request)
        if nodes is not None:
            free.take(nodes, request.gpus_per_node, request.cpus_per_node)
            result.starts[request.key] = nodes
            continue
        victims = victims_for(request, holdings, free)
        if not victims:
            break
        for victim in victims:
            free.give(victim.nodes, victim.gpus_per_node, victim.cpus_per_node)
        holdings = [h for h in holdings if h not in victims]
        nodes = free.select(request)
        assert nodes is not None, "victims_for promised room"
        free.take(nodes, request.gpus_per_node, request.cpus_per_node)
        result.starts[request.key] = nodes
        result.preemptions[request.key] = victims
    return result

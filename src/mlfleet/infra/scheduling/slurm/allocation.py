"""What the scheduler passes work on: pending requests, running holdings, free resources.

The model (:mod:`.predict`) and the engine adapter (:mod:`.policy`) both translate their
jobs into these, so the main scheduler, backfill and preemption are written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlfleet.infra.scheduling.slurm.nodes import select_nodes


@dataclass(frozen=True, kw_only=True)
class Request:
    """A pending job as the scheduler sees it."""

    key: str
    order: int
    """Job id: the last tie-break."""
    submit_s: float
    nodes: int
    gpus_per_node: int
    cpus_per_node: int
    time_limit_s: float
    tier: int
    """Its partition's PriorityTier."""
    priority: int


@dataclass(frozen=True, kw_only=True)
class Holding:
    """A running job: where it runs and when backfill expects it to end."""

    key: str
    nodes: tuple[int, ...]
    gpus_per_node: int
    cpus_per_node: int
    start_s: float
    expected_end_s: float
    """start + time limit: all a real scheduler knows about its end."""
    tier: int
    priority: int
    preemptable: bool
    """Its partition's PreemptMode is not OFF."""
    order: int = 0
    """Job id: equal-priority victims are taken in job-id order."""


def queue_order(requests: Sequence[Request]) -> list[Request]:
    """Slurm's evaluation order: PriorityTier, priority, submit time, job id."""
    return sorted(requests, key=lambda r: (-r.tier, -r.priority, r.submit_s, r.order))


class FreeNodes:
    """Free GPUs and CPUs per node, updated as jobs start and end."""

    def __init__(self, *, nodes: int, gpus_per_node: int, cpus_per_node: int) -> None:
        self.gpus = [gpus_per_node] * nodes
        self.cpus = [cpus_per_node] * nodes

    def copy(self) -> FreeNodes:
        """An independent copy (a pass that only plans works on one)."""
        other = FreeNodes(nodes=0, gpus_per_node=0, cpus_per_node=0)
        other.gpus, other.cpus = list(self.gpus), list(self.cpus)
        return other

    def select(self, request: Request) -> tuple[int, ...] | None:
        """The nodes the request would get now; None if it does not fit."""
        return select_nodes(self.gpus, self.cpus, nodes=request.nodes,
                            gpus_per_node=request.gpus_per_node,
                            cpus_per_node=request.cpus_per_node)

    def take(self, nodes: Sequence[int], gpus_per_node: int, cpus_per_node: int) -> None:
        """Allocate; asserts nothing goes negative."""
        for i in nodes:
            self.gpus[i] -= gpus_per_node
            self.cpus[i] -= cpus_per_node
            assert self.gpus[i] >= 0 and self.cpus[i] >= 0, f"node {i} over-allocated"

    def give(self, nodes: Sequence[int], gpus_per_node: int, cpus_per_node: int) -> None:
        """Release what :meth:`take` allocated."""
        for i in nodes:
            self.gpus[i] += gpus_per_node
            self.cpus[i] += cpus_per_node

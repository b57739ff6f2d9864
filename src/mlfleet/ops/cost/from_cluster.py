"""Allocations from a cluster simulation (:mod:`mlfleet.infra.scheduling`).

Each job (a :class:`~mlfleet.infra.scheduling.types.JobRecord`) held its ``gpus`` for
``gpu_s / gpus`` seconds (restart delays included, as the scheduler kept them reserved);
it is charged those GPU-hours, under its ``team`` and its application (or its name) as
the model. The assets are every GPU of the cluster over the run's makespan (first
submission to last finish), so the idle fraction is exactly ``1 - gpu_utilisation`` of
the simulator's own metrics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mlfleet.infra.scheduling.types import JobRecord
from mlfleet.ops.cost.allocation import Allocation
from mlfleet.ops.cost.breakdown import Capacity
from mlfleet.ops.cost.resources import Resource


@dataclass(frozen=True, kw_only=True)
class ClusterUsage:
    """What a simulated cluster run gives chargeback."""

    allocations: tuple[Allocation, ...]
    capacity: Capacity
    unfinished_jobs: int
    """Jobs that held no GPU-seconds before the run ended (not charged)."""


def job_allocation(record: JobRecord) -> Allocation | None:
    """The allocation of one job; None when it never held a GPU."""
    if record.gpu_s <= 0.0:
        return None
    gpus = float(record.gpus)
    return Allocation(name=record.name, team=record.team,
                      model=record.application or record.name,
                      duration_h=record.gpu_s / gpus / 3600.0,
                      requested={Resource.GPU: gpus}, used={Resource.GPU: gpus})


def cluster_usage(records: Iterable[JobRecord], *, cluster_gpus: int,
                  makespan_s: float) -> ClusterUsage:
    """Allocations of ``records`` and the cluster's capacity over ``makespan_s``."""
    found = [(r, job_allocation(r)) for r in records]
    allocations = tuple(a for _, a in found if a is not None)
    return ClusterUsage(allocations=allocations,
                        capacity=Capacity(amounts={Resource.GPU: float(cluster_gpus)},
                                          duration_h=makespan_s / 3600.0),
                        unfinished_jobs=sum(1 for _, a in found if a is None))

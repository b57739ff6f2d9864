"""Total cluster cost = workload + idle + overhead (OpenCost specification v0.1).

The cluster's assets cost ``capacity x duration x hourly rate`` per allocation resource.
What the workloads are charged (:mod:`.allocation`) is their cost; the rest of the assets'
allocation cost is idle, ``idle = assets - workloads >= 0`` per resource; overhead
(management fees, an operations team) is a cost of the cluster beside its assets. Usage
costs (egress) are all workload: they never sit idle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mlfleet.checks import non_negative, positive
from mlfleet.errors import InputError
from mlfleet.ops.cost.allocation import Allocation, allocation_cost_usd
from mlfleet.ops.cost.resources import NETWORK, Rates, Resource

OVERCOMMIT_TOLERANCE = 1e-9
"""Relative slack before allocations above capacity are refused (float round-off)."""


class CapacityError(InputError):
    """Allocations charged for more of a resource than the cluster has."""


@dataclass(frozen=True, kw_only=True)
class Capacity:
    """The cluster's assets: units of each resource held for ``duration_h``."""

    amounts: Mapping[Resource, float]
    duration_h: float

    def __post_init__(self) -> None:
        positive("capacity duration_h", self.duration_h)
        for resource, value in self.amounts.items():
            non_negative(f"capacity {resource.value}", value)

    def unit_hours(self, resource: Resource) -> float:
        return self.amounts.get(resource, 0.0) * self.duration_h


@dataclass(frozen=True, kw_only=True)
class CostBreakdown:
    """USD per resource of the workloads, the idle capacity and the overhead."""

    workload_usd: Mapping[str, float]
    """Per resource and ``network``."""
    idle_usd: Mapping[str, float]
    """Per allocation resource."""
    overhead_usd: float

    @property
    def total_workload_usd(self) -> float:
        return sum(self.workload_usd.values())

    @property
    def total_idle_usd(self) -> float:
        return sum(self.idle_usd.values())

    @property
    def total_usd(self) -> float:
        return self.total_workload_usd + self.total_idle_usd + self.overhead_usd

    @property
    def idle_fraction(self) -> float:
        """Idle / the assets' allocation costs (the spec's Cluster Idle %); 0 with none."""
        assets = self.total_idle_usd + sum(v for k, v in self.workload_usd.items()
                                           if k != NETWORK)
        return self.total_idle_usd / assets if assets > 0 else 0.0


def workload_cost_usd(allocations: Sequence[Allocation], rates: Rates) -> dict[str, float]:
    """Summed cost per resource (and ``network``) of ``allocations``."""
    total = {r.value: 0.0 for r in Resource} | {NETWORK: 0.0}
    for a in allocations:
        for key, usd in allocation_cost_usd(a, rates).items():
            total[key] += usd
    return total


def breakdown(allocations: Sequence[Allocation], *, rates: Rates,
              capacity: Capacity | None = None, overhead_usd: float = 0.0) -> CostBreakdown:
    """Workload, idle and overhead cost; no ``capacity``: the assets are what was allocated
    (idle 0). CapacityError when allocations exceed the capacity of a resource."""
    non_negative("overhead_usd", overhead_usd)
    workload = workload_cost_usd(allocations, rates)
    idle = {}
    for r in Resource:
        charged = sum(a.unit_hours(r) for a in allocations)
        held = charged if capacity is None else capacity.unit_hours(r)
        if charged > held * (1.0 + OVERCOMMIT_TOLERANCE) + OVERCOMMIT_TOLERANCE:
            raise CapacityError(f"allocations charge {charged:g} {r.value}-hours but the "
                                f"capacity(={held:g} {r.value}-hours) is smaller")
        idle[r.value] = max(held - charged, 0.0) * rates.hourly_usd(r)
    return CostBreakdown(workload_usd=workload, idle_usd=idle, overhead_usd=overhead_usd)

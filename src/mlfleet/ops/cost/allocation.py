"""A workload's allocation and its cost (OpenCost specification v0.1, "Workload Costs").

An allocation holds, per resource, what was requested and what was used over
``duration_h``. It is charged for ``amount = max(request, usage)`` of each allocation
resource: what the scheduler reserved, or more where the workload used more. Its cost per
resource is ``amount x duration x hourly rate`` (the spec's Resource Allocation Cost);
network egress is a usage cost, ``GB x rate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mlfleet.checks import finite, non_negative, positive
from mlfleet.ops.cost.resources import NETWORK, Rates, Resource


@dataclass(frozen=True, kw_only=True)
class Allocation:
    """One workload (a job, a replica set, a pod) over one period."""

    name: str
    team: str
    model: str
    duration_h: float
    requested: Mapping[Resource, float]
    """Units reserved for the whole period (GPUs may be fractional: a MIG slice)."""
    used: Mapping[Resource, float]
    """Average units used over the period."""
    network_gb: float = 0.0
    """Egress moved during the period."""
    node: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    """Custom metrics (e.g. requests served) for splitting shared costs."""

    def __post_init__(self) -> None:
        positive("duration_h", self.duration_h)
        non_negative("network_gb", self.network_gb)
        for kind, amounts in (("requested", self.requested), ("used", self.used)):
            for resource, value in amounts.items():
                non_negative(f"{self.name} {resource.value}_{kind}", value)
        for metric, value in self.metrics.items():
            finite(f"{self.name} {metric}", value)

    def amount(self, resource: Resource) -> float:
        """``max(request, usage)`` of ``resource``."""
        return max(self.requested.get(resource, 0.0), self.used.get(resource, 0.0))

    def unit_hours(self, resource: Resource) -> float:
        """``amount x duration``: the unit-hours the allocation is charged for."""
        return self.amount(resource) * self.duration_h


def allocation_cost_usd(allocation: Allocation, rates: Rates) -> dict[str, float]:
    """USD per resource (``gpu``, ``cpu``, ``ram_gb``, ``storage_gb``, ``network``)."""
    cost = {r.value: allocation.unit_hours(r) * rates.hourly_usd(r) for r in Resource}
    cost[NETWORK] = allocation.network_gb * rates.network_usd_per_gb
    return cost


def idle_within_usd(allocation: Allocation, rates: Rates) -> float:
    """The spec's Workload Idle Cost: requested units left unused, priced (USD)."""
    return sum(max(allocation.requested.get(r, 0.0) - allocation.used.get(r, 0.0), 0.0)
               * allocation.duration_h * rates.hourly_usd(r) for r in Resource)

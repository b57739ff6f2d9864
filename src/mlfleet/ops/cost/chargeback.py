"""Chargeback: what each team (or model) pays for a period.

A tenant pays its own workloads' cost plus its part of the shared costs: the idle
capacity, the overhead, and the workloads of the shared tenant (platform services that
serve everyone), split by a :class:`~mlfleet.ops.cost.shares.Split`. With
``share_idle=False`` the idle cost stays unassigned, as OpenCost shows it by default.
Either way ``sum(charges) + unassigned idle = total cluster cost``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from mlfleet.checks import one_of
from mlfleet.ops.cost.allocation import Allocation, allocation_cost_usd
from mlfleet.ops.cost.breakdown import Capacity, CostBreakdown, breakdown
from mlfleet.ops.cost.resources import Rates
from mlfleet.ops.cost.shares import Split, split_shared

BY = ("team", "model")
SHARED_TENANT = "shared"
"""Allocations of this team are shared workloads, split among the other tenants."""


@dataclass(frozen=True, kw_only=True)
class Charge:
    """One tenant's bill."""

    tenant: str
    workload_usd: float
    shared_usd: float
    """Its part of idle, overhead and shared workloads."""

    @property
    def total_usd(self) -> float:
        return self.workload_usd + self.shared_usd


@dataclass(frozen=True, kw_only=True)
class Chargeback:
    """Every tenant's bill, the breakdown they come from, and what stays unassigned."""

    by: str
    split: str
    charges: tuple[Charge, ...]
    breakdown: CostBreakdown
    shared_workload_usd: float
    """Cost of the shared tenant's own workloads (split among the others)."""
    unassigned_idle_usd: float
    """Idle cost not charged to anyone (``share_idle=False``), else 0."""

    @property
    def charged_usd(self) -> float:
        return sum(c.total_usd for c in self.charges)


def _tenant(a: Allocation, by: str) -> str:
    return a.team if by == "team" else a.model


def chargeback(allocations: Sequence[Allocation], *, rates: Rates, by: str = "team",
               split: Split | None = None, capacity: Capacity | None = None,
               overhead_usd: float = 0.0, share_idle: bool = True,
               shared_team: str = SHARED_TENANT) -> Chargeback:
    """Bills by ``by`` (team or model) for ``allocations`` priced at ``rates``."""
    one_of("by", by, BY)
    split = split or Split()
    costs = breakdown(allocations, rates=rates, capacity=capacity, overhead_usd=overhead_usd)
    own: dict[str, float] = defaultdict(float)
    metrics: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    shared_workload = 0.0
    for a in allocations:
        usd = sum(allocation_cost_usd(a, rates).values())
        if a.team == shared_team:
            shared_workload += usd
            continue
        tenant = _tenant(a, by)
        own[tenant] += usd
        for name, value in a.metrics.items():
            metrics[tenant][name] += value
    idle = costs.total_idle_usd if share_idle else 0.0
    parts = split_shared(shared_workload + idle + costs.overhead_usd, split,
                         workload_usd=own, metrics=metrics)
    charges = tuple(Charge(tenant=t, workload_usd=own[t], shared_usd=parts[t])
                    for t in sorted(own))
    return Chargeback(by=by, split=split.label, charges=charges, breakdown=costs,
                      shared_workload_usd=shared_workload,
                      unassigned_idle_usd=costs.total_idle_usd - idle)

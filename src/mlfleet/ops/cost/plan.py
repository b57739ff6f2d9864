"""Cost per team and per model for ``mlfleet plan``'s operations section.

From a platform's monthly cost (the infrastructure chapter's figure), each team's share
of the workload and an idle fraction: the idle part (OpenCost's Cluster Idle Cost,
``idle_fraction x monthly``) is split among the teams in proportion to their workload
(:func:`mlfleet.ops.cost.shares.split_by_weight`), so the teams' bills sum to the monthly
cost; per model is the monthly cost over the models in the portfolio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlfleet.checks import fraction, non_negative, positive_int
from mlfleet.errors import InputError
from mlfleet.ops.cost.shares import split_by_weight

DEFAULT_TEAM = "all"


@dataclass(frozen=True, kw_only=True)
class TeamCost:
    """One team's monthly bill."""

    team: str
    workload_usd_per_month: float
    idle_usd_per_month: float
    """Its part of the idle capacity."""

    @property
    def total_usd_per_month(self) -> float:
        return self.workload_usd_per_month + self.idle_usd_per_month


@dataclass(frozen=True, kw_only=True)
class PlanChargeback:
    """Monthly cost by team and per model."""

    monthly_cost_usd: float
    idle_usd_per_month: float
    teams: tuple[TeamCost, ...]
    models: int
    per_model_usd_per_month: float
    """Monthly cost (workload + its share of idle) per model of the portfolio."""


def chargeback_for_plan(*, monthly_cost_usd: float, teams: Mapping[str, float] | None,
                        models: int, idle_fraction: float | None = None) -> PlanChargeback:
    """Bills for a plan. ``teams``: team -> share of the workload (any positive weights,
    normalised; None: one team ``all``); ``idle_fraction``: idle / total (None: 0)."""
    total = non_negative("monthly_cost_usd", monthly_cost_usd)
    idle = total * (fraction("idle_fraction", idle_fraction, open_high=True)
                    if idle_fraction is not None else 0.0)
    weights = dict(teams) if teams else {DEFAULT_TEAM: 1.0}
    if sum(non_negative(f"team {t} share", w) for t, w in weights.items()) <= 0:
        raise InputError(f"teams(={weights!r}) must have a share > 0")
    workload = split_by_weight(total - idle, weights)
    idle_parts = split_by_weight(idle, weights)
    rows = tuple(TeamCost(team=t, workload_usd_per_month=workload[t],
                          idle_usd_per_month=idle_parts[t]) for t in sorted(weights))
    n = positive_int("models", models)
    return PlanChargeback(monthly_cost_usd=total, idle_usd_per_month=idle, teams=rows,
                          models=n, per_model_usd_per_month=total / n)

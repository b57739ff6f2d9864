"""The operations section of a plan: the numbers, the text and the groups other parts of
the chapter supply (cost per team and model, the canary policy)."""

from __future__ import annotations

from typing import Any

from mlfleet.ops.canary.policy import CanaryPolicy
from mlfleet.plan.operations import DAY_S, MONTH_S, NOT_APPLICABLE, OperationsPlan
from mlfleet.plan.operations_text import bottleneck, reasoning, recommendation
from mlfleet.plan.section import Section, not_applicable


def section(result: OperationsPlan | None) -> Section:
    """The plan section of an operations result."""
    if result is None:
        return not_applicable(NOT_APPLICABLE)
    details: dict[str, Any] = {"ensemble_shape": "feature providers -> ranker -> "
                                                 "post-processing, one consumer per model"}
    if result.teams is not None:
        details["team_shares"] = result.teams
    numbers = _numbers(result)
    numbers.update(cost_and_canary(result, details))
    return Section(status="ok", fidelity="model", numbers=numbers,
                   bottleneck=bottleneck(result), recommendation=recommendation(result),
                   reasoning=reasoning(result), details=details)


def cost_and_canary(result: OperationsPlan, details: dict[str, Any]) -> dict[str, Any]:
    """The groups other parts of the chapter supply: the cost per team and per model
    (cost attribution's :func:`~mlfleet.ops.cost.plan.chargeback_for_plan`) and the canary
    policy (:func:`~mlfleet.ops.canary.policy.canary_policy`). Returns numbers; adds tables
    to ``details``."""
    out: dict[str, Any] = {}
    bill, canary = result.chargeback, result.canary
    if bill is not None:
        details["cost_by_team_usd_per_month"] = {t.team: t.total_usd_per_month
                                                 for t in bill.teams}
        out.update(fleet_cost_usd_per_month=bill.monthly_cost_usd,
                   cost_per_model_usd_per_month=bill.per_model_usd_per_month)
    if canary is not None:
        details["canary_stages"] = list(canary.stages)
        out.update(canary_interval_s=canary.interval_s,
                   canary_intervals_per_judgement=canary.intervals_per_judgement,
                   canary_rollout_s=canary.time_to_full_rollout_s,
                   canaries_in_flight=canaries_in_flight(result.deploys_per_month, canary))
    return out


def canaries_in_flight(deploys_per_month: float, canary: CanaryPolicy) -> float:
    """Rollouts under way at any moment on average (Little's law: arrival rate x time)."""
    return deploys_per_month / MONTH_S * canary.time_to_full_rollout_s


def _numbers(result: OperationsPlan) -> dict[str, Any]:
    p, oncall, pay = result.portfolio, result.oncall, result.payback
    out: dict[str, Any] = {
        "models": p.models, "dependency_edges": p.edges,
        "pages_per_week": result.pages_per_week, "pages_per_shift": oncall.pages_per_shift,
        "shifts_over_budget_fraction": oncall.shift_over_budget_poisson,
        "oncall_rotations": oncall.rotations, "oncall_engineers": oncall.engineers,
        "platform_break_even_models": pay.break_even_models,
        "platform_saving_usd_per_year": pay.saving_usd_per_year,
        "manual_ops_engineers": pay.manual_engineers,
    }
    if result.teams is not None:
        out["teams"] = len(result.teams)
    tests = result.experiments
    if tests is not None:
        out.update(users_per_arm=tests.users_per_arm,
                   experiment_min_duration_s=tests.days_at_full_traffic * DAY_S,
                   concurrent_experiments=tests.experiments_layered,
                   mde_at_full_traffic_fraction=result.mde_at_full_traffic)
        if tests.layers > 1:
            out.update(layers=tests.layers,
                       expected_false_interactions=tests.expected_false_interactions)
    return out

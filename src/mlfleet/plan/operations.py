"""The operations section of a plan: the model portfolio, its pager, its platform and its
experiments.

Fidelity: model. Planned only when the scenario has an ``ops:`` section (the portfolio is
not something a workload and its traffic imply); without one the section is *not
applicable* and says how to add one. The numbers come from :mod:`mlfleet.ops.org`:
pages per week from the Poisson incident model with dependency coupling
(:mod:`~mlfleet.ops.org.incidents`, checked against a simulation), the on-call rotation
from the SRE book's 2 incidents per 12-hour shift and 8 engineers per rotation
(:mod:`~mlfleet.ops.org.oncall`), the platform's break-even number of models
(:mod:`~mlfleet.ops.org.payback`), and, with ``ops.experiments``, the experiment capacity of
:func:`mlfleet.ops.experiment.layers.experiment_capacity` (users per arm from the
two-sample normal approximation at the relative effect over the metric's coefficient of
variation, the days one experiment needs with all the traffic, how many run at once over
the experiment's duration in ``layers`` overlapping layers) and the effect one experiment
could detect with all the traffic. With a serving fleet whose cloud cost the serving section
prices, a month of it is split by the team shares and per model
(:func:`mlfleet.ops.cost.plan.chargeback_for_plan`; no idle share: the fleet is sized, not
owned). With serving traffic, every deploy goes through the canary judge's staged rollout at
the service's mean rate (:func:`mlfleet.ops.canary.policy.canary_policy`, its defaults: 5 %
first stage, a 10 % shift worth catching), and Little's law gives the rollouts in flight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.ops.canary.policy import CanaryPolicy, canary_policy
from mlfleet.ops.cost.plan import PlanChargeback, chargeback_for_plan
from mlfleet.ops.experiment.layers import ExperimentCapacity, experiment_capacity
from mlfleet.ops.experiment.power import minimum_detectable_effect
from mlfleet.ops.org.incidents import IncidentRates, pages_per_week
from mlfleet.ops.org.oncall import OncallLoad, oncall_load
from mlfleet.ops.org.payback import Payback, PlatformCosts, payback
from mlfleet.ops.org.portfolio import Portfolio, portfolio
from mlfleet.scenario import Scenario
from mlfleet.scenario.ops_spec import ExperimentsSpec, OpsSpec
from mlfleet.units import parse_quantity

NOT_APPLICABLE = "no ops: section in the scenario (docs/operations-platform.md)"
DAY_S = 86400.0
MONTH_S = parse_quantity("1month", "s")


@dataclass(frozen=True, kw_only=True)
class OperationsPlan:
    """The portfolio's operations: pager, platform and experiments."""

    portfolio: Portfolio
    pages_per_week: float
    oncall: OncallLoad
    payback: Payback
    experiments: ExperimentCapacity | None
    mde_at_full_traffic: float | None
    """The relative effect one experiment given all the traffic for its duration detects."""
    teams: dict[str, float] | None
    chargeback: PlanChargeback | None
    """The serving fleet's cost by team and per model (None without a fleet cost)."""
    canary: CanaryPolicy | None
    """The canary judge's policy at the service's traffic (None without serving traffic)."""
    deploys_per_month: float
    """All the portfolio's deploys a month (models x ops.deploys_per_month)."""


def capacity(spec: ExperimentsSpec) -> ExperimentCapacity:
    """The experiment capacity of :mod:`mlfleet.ops.experiment.layers` for the file's tests."""
    return experiment_capacity(users_per_day=spec.users_per_day,
                               duration_days=spec.duration_s / DAY_S,
                               relative_mde=spec.relative_mde, metric_cv=spec.metric_cv,
                               arms=spec.arms, layers=spec.layers)


def mde_at_full_traffic(spec: ExperimentsSpec) -> float:
    """The relative effect detectable when one experiment has every user of its duration."""
    per_arm = max(1, math.floor(spec.users_per_day * spec.duration_s / DAY_S / spec.arms))
    return minimum_detectable_effect(users_per_arm=per_arm, std=spec.metric_cv)


def plan(scenario: Scenario, *, fleet_usd_per_year: float | None = None
         ) -> OperationsPlan | None:
    """The operations plan; None without an ``ops:`` section. ``fleet_usd_per_year`` (the
    serving section's cloud cost of the sized fleet) is split by team and per model; with
    serving traffic, every deploy is canaried under the canary judge's policy."""
    ops = scenario.ops
    if ops is None:
        return None
    models = portfolio(models=ops.models, ensembles=ops.ensembles, members=ops.ensemble_members)
    pages = pages_per_week(models, _rates(ops))
    platform = ops.platform
    costs = PlatformCosts(platform_engineers=platform.engineers,
                          engineer_usd_per_year=platform.engineer_usd_per_year,
                          manual_hours_per_model_month=platform.manual_hours_per_model_month,
                          platform_hours_per_model_month=platform.platform_hours_per_model_month)
    return OperationsPlan(
        portfolio=models, pages_per_week=pages, oncall=oncall_load(pages),
        payback=payback(ops.models, costs),
        experiments=None if ops.experiments is None else capacity(ops.experiments),
        mde_at_full_traffic=None if ops.experiments is None
        else mde_at_full_traffic(ops.experiments),
        teams=None if ops.teams is None else dict(ops.teams),
        chargeback=None if fleet_usd_per_year is None else chargeback_for_plan(
            monthly_cost_usd=fleet_usd_per_year / 12.0, teams=ops.teams, models=ops.models),
        canary=None if scenario.serving is None else canary_policy(qps=scenario.serving.qps),
        deploys_per_month=ops.models * ops.deploys_per_month)


def _rates(ops: OpsSpec) -> IncidentRates:
    return IncidentRates(base_pages_per_model_week=ops.oncall.base_pages_per_model_week,
                         deploys_per_model_month=ops.deploys_per_month,
                         change_failure_rate=ops.oncall.change_failure_rate,
                         coupling=ops.oncall.coupling)


def reads(scenario: Scenario, result: OperationsPlan | None) -> set[str]:
    """Scenario fields this section's result depends on."""
    ops = scenario.ops
    if result is None or ops is None:
        return set()
    out = {"ops.models", "ops.ensembles", "ops.deploys_per_month",
           "ops.oncall.base_pages_per_model_week", "ops.teams",
           *(f"ops.platform.{name}" for name in type(ops.platform).model_fields)}
    if ops.ensembles:
        out.add("ops.ensemble_members")
    if ops.deploys_per_month:
        out.add("ops.oncall.change_failure_rate")
    if result.portfolio.edges:
        out.add("ops.oncall.coupling")
    if ops.experiments is not None:
        out |= {f"ops.experiments.{name}" for name in type(ops.experiments).model_fields}
    if result.chargeback is not None:
        out.add("prices.cloud_usd_per_gpu_h")
    if result.canary is not None:
        out.add("serving.qps")
    return out


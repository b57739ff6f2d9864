"""The scenario's ``ops:`` section: the model portfolio, its teams, its experiments, its
pager and its platform, for the operations part of the plan (docs/operations-platform.md).

Defaults carry their source (:mod:`mlfleet.ops.org.incidents`, :mod:`mlfleet.ops.org.payback`);
the ones without a published figure say they are assumptions.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, model_validator

from mlfleet.scenario.base import _Spec
from mlfleet.scenario.parsers import (
    _COUNT_SCHEMA,
    _RATIO_SCHEMA,
    Fraction,
    PositiveInt,
    Seconds,
    ShortText,
    Usd,
    _count,
    _invalid,
    _ratio,
)

TEAM_SHARES_TOLERANCE = 1e-6
"""How far the team shares may sum from 1 (rounding in a hand-written file)."""
ArmCount = Annotated[int, BeforeValidator(_count("must be an integer >= 2 (control and one "
                                                 "treatment at least)", minimum=2)),
                     _COUNT_SCHEMA]
MemberCount = Annotated[int, BeforeValidator(_count("must be an integer >= 2 (an ensemble "
                                                    "has several models)", minimum=2)),
                        _COUNT_SCHEMA]
Count = Annotated[int, BeforeValidator(_count("must be a non-negative integer", minimum=0)),
                  _COUNT_SCHEMA]
Probability = Annotated[float, BeforeValidator(_ratio(0.0, 1.0, what="a probability")),
                        _RATIO_SCHEMA]
Rate = Annotated[float, BeforeValidator(_ratio(0.0, 1e6, what="a rate")), _RATIO_SCHEMA]
Hours = Annotated[float, BeforeValidator(_ratio(0.0, 744.0, what="hours in a month")),
                  _RATIO_SCHEMA]
Cv = Annotated[float, BeforeValidator(_ratio(0.0, 1000.0, lo_open=True,
                                             what="a coefficient of variation")), _RATIO_SCHEMA]


class ExperimentsSpec(_Spec):
    """The A/B tests the traffic must carry (experiment capacity in the plan)."""

    users_per_day: PositiveInt
    """New users (randomisation units) entering experiments per day, e.g. 2M."""
    metric_cv: Cv
    """The metric's per-user standard deviation over its mean, e.g. 2 for sessions."""
    relative_mde: Fraction = 0.01
    """Smallest relative effect worth detecting (80 % power, two-sided 5 %), e.g. 1%."""
    duration_s: Seconds = 14 * 86400.0
    """How long one experiment runs, e.g. 14d (two full weeks, weekly cycles)."""
    arms: ArmCount = 2
    """Arms per experiment, control included."""
    layers: PositiveInt = 1
    """Overlapping experiment layers (Tang et al., KDD 2010); each sees all the traffic."""


class OncallSpec(_Spec):
    """What makes a model page (the incident model of docs/operations-platform.md)."""

    base_pages_per_model_week: Rate = 0.1
    """Background incidents per model per week (an assumption: one every ten weeks)."""
    change_failure_rate: Probability = 0.15
    """Fraction of deploys that page (DORA 2023, the medium cluster)."""
    coupling: Probability = 0.3
    """Chance an incident at a producer pages its consumer too (an assumption)."""


class PlatformSpec(_Spec):
    """The platform team and the toil it saves (the break-even in the plan)."""

    engineers: PositiveInt = 6
    """Engineers on the ML platform team."""
    engineer_usd_per_year: Usd = 250_000.0
    """Loaded cost of one engineer per year (an assumption), e.g. $250k."""
    manual_hours_per_model_month: Hours = 40.0
    """Engineer hours one model takes a month without a platform (an assumption)."""
    platform_hours_per_model_month: Hours = 8.0
    """Engineer hours one model takes a month with the platform (an assumption)."""

    @model_validator(mode="after")
    def _saves_toil(self) -> PlatformSpec:
        if self.platform_hours_per_model_month >= self.manual_hours_per_model_month:
            raise _invalid(f"must be below manual_hours_per_model_month "
                           f"({self.manual_hours_per_model_month:g})",
                           self.platform_hours_per_model_month, "platform_hours_per_model_month")
        return self


class OpsSpec(_Spec):
    """The model portfolio the platform runs and the teams that share its cost."""

    models: PositiveInt = 1
    """Models in production (an ensemble's members count one each), e.g. 12."""
    teams: dict[ShortText, Fraction] | None = None
    """Each team's share of the fleet, e.g. {ranking: 0.6, ads: 0.4} (sums to 1)."""
    ensembles: Count = 0
    """Multi-model ensembles among the models (recommendation pipelines), e.g. 2."""
    ensemble_members: MemberCount = 10
    """Models per ensemble (feature providers -> ranker -> post-processing)."""
    deploys_per_month: Rate = 4.0
    """Deploys of each model per month (retraining and code changes), e.g. 4."""
    experiments: ExperimentsSpec | None = None
    """The A/B tests the traffic must carry."""
    oncall: OncallSpec = OncallSpec()
    """What makes a model page."""
    platform: PlatformSpec = PlatformSpec()
    """The platform team and the toil it saves."""

    @model_validator(mode="after")
    def _consistent(self) -> OpsSpec:
        if self.teams is not None:
            total = sum(self.teams.values())
            if abs(total - 1.0) > TEAM_SHARES_TOLERANCE:
                raise _invalid(f"shares must sum to 1, these sum to {total:.6g}",
                               dict(self.teams), "teams")
        if self.ensembles * self.ensemble_members > self.models:
            raise _invalid(f"ensembles x ensemble_members = {self.ensembles} x "
                           f"{self.ensemble_members} must be at most models ({self.models})",
                           self.ensembles, "ensembles")
        return self

"""Platform investment: the number of models at which a platform team pays for itself.

A computed example, not a measured law. Without a platform every model costs
``manual_hours_per_model_month`` of engineer toil (hand-run retraining, deploys, monitoring
and rollbacks); with one it costs ``platform_hours_per_model_month``, and the platform costs
a team of ``platform_engineers`` at ``engineer_usd_per_year`` each. At ``N`` models a year
of toil saved is ``N x (manual - platform) x 12 x hourly cost``, so the platform breaks
even at

    N* = platform_engineers x HOURS_PER_ENGINEER_YEAR / (12 x (manual - platform))

(the salary cancels when platform and product engineers cost the same). The defaults are
assumptions for the example: 40 h/model/month by hand, 8 with a platform, 6 platform
engineers at $250k a year loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import non_negative, positive, positive_int
from mlfleet.errors import InputError

HOURS_PER_ENGINEER_YEAR = 2000.0
"""Working hours in an engineer-year (50 weeks x 40 h)."""


@dataclass(frozen=True, kw_only=True)
class PlatformCosts:
    """The inputs of the break-even: toil per model with and without a platform."""

    platform_engineers: int = 6
    engineer_usd_per_year: float = 250_000.0
    """Loaded cost of one engineer (salary, benefits, overhead): an assumption."""
    manual_hours_per_model_month: float = 40.0
    platform_hours_per_model_month: float = 8.0

    def __post_init__(self) -> None:
        positive_int("platform_engineers", self.platform_engineers)
        positive("engineer_usd_per_year", self.engineer_usd_per_year)
        positive("manual_hours_per_model_month", self.manual_hours_per_model_month)
        non_negative("platform_hours_per_model_month", self.platform_hours_per_model_month)
        if self.platform_hours_per_model_month >= self.manual_hours_per_model_month:
            raise InputError(
                f"platform_hours_per_model_month(={self.platform_hours_per_model_month:g}) "
                f"must be below manual_hours_per_model_month "
                f"({self.manual_hours_per_model_month:g}): a platform that saves no toil "
                "never pays back")

    @property
    def engineer_usd_per_h(self) -> float:
        return self.engineer_usd_per_year / HOURS_PER_ENGINEER_YEAR

    @property
    def platform_usd_per_year(self) -> float:
        return self.platform_engineers * self.engineer_usd_per_year


@dataclass(frozen=True, kw_only=True)
class Payback:
    """Manual vs platform operations at one portfolio size."""

    models: int
    manual_usd_per_year: float
    """Toil without a platform: models x manual hours x 12 x hourly cost."""
    platform_usd_per_year: float
    """The platform team plus the toil left with it."""
    saving_usd_per_year: float
    break_even_models: float
    manual_engineers: float
    """Full-time engineers the toil alone takes without a platform."""


def break_even_models(costs: PlatformCosts) -> float:
    """``N*``: models at which the platform team costs what it saves (module docstring)."""
    saved_h_per_model_year = 12.0 * (costs.manual_hours_per_model_month
                                     - costs.platform_hours_per_model_month)
    return costs.platform_usd_per_year / (saved_h_per_model_year * costs.engineer_usd_per_h)


def payback(models: int, costs: PlatformCosts) -> Payback:
    """Both ways of running ``models`` for a year, and the break-even."""
    positive_int("models", models)
    per_h = costs.engineer_usd_per_h
    manual_h = models * costs.manual_hours_per_model_month * 12.0
    manual = manual_h * per_h
    platform = (costs.platform_usd_per_year
                + models * costs.platform_hours_per_model_month * 12.0 * per_h)
    return Payback(models=models, manual_usd_per_year=manual, platform_usd_per_year=platform,
                   saving_usd_per_year=manual - platform,
                   break_even_models=break_even_models(costs),
                   manual_engineers=manual_h / HOURS_PER_ENGINEER_YEAR)

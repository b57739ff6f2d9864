"""Budget alerts: a team's month-to-date spend, its forecast, and the verdict.

The forecast is the linear run-rate (the method of AWS Budgets' and OpenCost's monthly
projections): ``forecast = spent / elapsed_days x month_days``. The verdict is **over**
when the forecast exceeds the budget (or the spend already has), **warn** when it exceeds
``warn_at`` of the budget, else **ok**; ``overrun_day`` is the day the run-rate reaches the
budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.checks import fraction, non_negative, positive
from mlfleet.units import parse_quantity

DAYS_PER_MONTH = parse_quantity("1month", "h") / 24.0
"""The units module's month."""


@dataclass(frozen=True, kw_only=True)
class BudgetStatus:
    """One team's position against its monthly budget."""

    team: str
    budget_usd: float
    spent_usd: float
    elapsed_days: float
    forecast_usd: float
    status: str
    """``ok``, ``warn`` or ``over``."""
    overrun_day: float | None
    """Day of the month the run-rate reaches the budget (None: not this month)."""


def run_rate_forecast_usd(*, spent_usd: float, elapsed_days: float,
                          month_days: float = DAYS_PER_MONTH) -> float:
    """``spent / elapsed x month_days``."""
    return non_negative("spent_usd", spent_usd) / positive("elapsed_days", elapsed_days) \
        * positive("month_days", month_days)


def budget_status(*, team: str, spent_usd: float, budget_usd: float, elapsed_days: float,
                  month_days: float = DAYS_PER_MONTH, warn_at: float = 0.8) -> BudgetStatus:
    """The verdict for one team (module docstring)."""
    positive("budget_usd", budget_usd)
    fraction("warn_at", warn_at, open_low=True)
    if elapsed_days > month_days:
        positive("month_days - elapsed_days", month_days - elapsed_days)
    forecast = run_rate_forecast_usd(spent_usd=spent_usd, elapsed_days=elapsed_days,
                                     month_days=month_days)
    if forecast > budget_usd or spent_usd > budget_usd:
        status = "over"
    elif forecast > warn_at * budget_usd:
        status = "warn"
    else:
        status = "ok"
    daily = spent_usd / elapsed_days
    day = budget_usd / daily if daily > 0 else math.inf
    return BudgetStatus(team=team, budget_usd=budget_usd, spent_usd=spent_usd,
                        elapsed_days=elapsed_days, forecast_usd=forecast, status=status,
                        overrun_day=day if day <= month_days else None)

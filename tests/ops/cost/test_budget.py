"""Budget alerts: the linear run-rate forecast and the ok / warn / over verdict.

Validation: on simulated months of i.i.d. daily spend (gamma, mean $1000, CV 0.5) the
run-rate forecast on day 10 is unbiased for the month's spend (mean relative error within
Monte-Carlo error, printed with ``-s``); for a constant daily spend it is exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.ops.cost.budget import budget_status, run_rate_forecast_usd


def test_constant_spend_is_forecast_exactly() -> None:
    assert run_rate_forecast_usd(spent_usd=10 * 500.0, elapsed_days=10, month_days=30) \
        == pytest.approx(15_000.0)


@pytest.mark.parametrize(("spent", "status", "day"), [
    (2_000.0, "ok", None), (3_000.0, "warn", None), (4_000.0, "over", 25.0),
])
def test_verdicts(spent: float, status: str, day: float | None) -> None:
    s = budget_status(team="t", spent_usd=spent, budget_usd=10_000, elapsed_days=10,
                      month_days=30, warn_at=0.8)
    assert s.status == status
    assert s.overrun_day == (pytest.approx(day) if day is not None else None)


def test_spend_over_budget_is_over_whatever_the_forecast() -> None:
    assert budget_status(team="t", spent_usd=11_000, budget_usd=10_000, elapsed_days=30,
                         month_days=30).status == "over"


def test_forecast_is_unbiased_on_simulated_months() -> None:
    rng = np.random.default_rng(16)
    months, mean, cv = 4000, 1000.0, 0.5
    daily = rng.gamma(shape=1 / cv**2, scale=mean * cv**2, size=(months, 30))
    forecast = daily[:, :10].sum(axis=1) / 10 * 30
    actual = daily.sum(axis=1)
    rel = (forecast - actual) / actual
    se = rel.std(ddof=1) / np.sqrt(months)
    print(f"run-rate forecast on day 10: mean relative error {rel.mean():+.4f} "
          f"(Monte-Carlo s.e. {se:.4f}), spread {rel.std():.3f}")
    assert abs(rel.mean()) < 4 * se + 0.005


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"budget_usd": 0.0}, "budget_usd"), ({"elapsed_days": 0.0}, "elapsed_days"),
    ({"warn_at": 1.5}, "warn_at"), ({"spent_usd": -1.0}, "spent_usd"),
])
def test_bad_inputs(kwargs: dict[str, float], fragment: str) -> None:
    args = {"spent_usd": 1.0, "budget_usd": 10.0, "elapsed_days": 1.0} | kwargs
    with pytest.raises(InputError, match=fragment):
        budget_status(team="t", **args)

"""The plan's cost per team and per model."""

from __future__ import annotations

import pytest

from mlfleet.errors import InputError
from mlfleet.ops.cost.plan import chargeback_for_plan


def test_teams_pay_their_share_plus_idle_and_sum_to_the_month() -> None:
    p = chargeback_for_plan(monthly_cost_usd=100_000, teams={"a": 3, "b": 1}, models=20,
                            idle_fraction=0.2)
    by = {t.team: t for t in p.teams}
    assert by["a"].workload_usd_per_month == pytest.approx(60_000)
    assert by["a"].idle_usd_per_month == pytest.approx(15_000)
    assert sum(t.total_usd_per_month for t in p.teams) == pytest.approx(100_000)
    assert p.per_model_usd_per_month == pytest.approx(5_000)


def test_defaults_one_team_no_idle() -> None:
    p = chargeback_for_plan(monthly_cost_usd=10.0, teams=None, models=1)
    assert [t.team for t in p.teams] == ["all"] and p.idle_usd_per_month == 0.0


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"models": 0}, "models"), ({"idle_fraction": 1.0}, "idle_fraction"),
    ({"teams": {"a": 0.0}}, "share > 0"), ({"monthly_cost_usd": -1.0}, "monthly_cost_usd"),
])
def test_bad_inputs(kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {"monthly_cost_usd": 1.0, "teams": None, "models": 1} | kwargs
    with pytest.raises(InputError, match=fragment):
        chargeback_for_plan(**args)  # type: ignore[arg-type]

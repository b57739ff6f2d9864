"""Platform payback: at the break-even the two cost lines meet (an exact reference)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.ops.org.payback import HOURS_PER_ENGINEER_YEAR, PlatformCosts, break_even_models


def _annual_costs(models: float, costs: PlatformCosts) -> tuple[float, float]:
    """By hand: models x manual hours; with a platform: the team plus the remaining toil."""
    per_h = costs.engineer_usd_per_year / HOURS_PER_ENGINEER_YEAR
    manual = models * costs.manual_hours_per_model_month * 12 * per_h
    platform = (costs.platform_engineers * costs.engineer_usd_per_year
                + models * costs.platform_hours_per_model_month * 12 * per_h)
    return manual, platform


def test_the_computed_example_breaks_even_at_31_models() -> None:
    """6 engineers x 2,000 h / (12 x (40 - 8) h) = 31.25 models."""
    assert break_even_models(PlatformCosts()) == pytest.approx(31.25, rel=1e-12)


@given(engineers=st.integers(1, 100), usd=st.floats(1e4, 1e7),
       manual=st.floats(1, 700), saved=st.floats(0.01, 0.99))
def test_costs_are_equal_at_the_break_even_and_the_salary_cancels(
        engineers: int, usd: float, manual: float, saved: float) -> None:
    costs = PlatformCosts(platform_engineers=engineers, engineer_usd_per_year=usd,
                          manual_hours_per_model_month=manual,
                          platform_hours_per_model_month=manual * (1 - saved))
    n = break_even_models(costs)
    by_hand, with_platform = _annual_costs(n, costs)
    assert by_hand == pytest.approx(with_platform, rel=1e-9)
    cheaper = PlatformCosts(platform_engineers=engineers, engineer_usd_per_year=usd / 2,
                            manual_hours_per_model_month=manual,
                            platform_hours_per_model_month=manual * (1 - saved))
    assert break_even_models(cheaper) == pytest.approx(n, rel=1e-12)


def test_a_platform_that_saves_no_toil_is_refused() -> None:
    with pytest.raises(InputError, match=r"platform_hours_per_model_month\(=40\) must be below"):
        PlatformCosts(manual_hours_per_model_month=40, platform_hours_per_model_month=40)

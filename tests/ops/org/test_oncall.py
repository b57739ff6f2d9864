"""On-call sizing: the SRE book's 2 incidents per 12-hour shift and 8 per rotation."""

from __future__ import annotations

import pytest
from scipy import stats

from mlfleet.ops.org.oncall import SHIFTS_PER_WEEK, oncall_load


def test_two_pages_per_shift_is_one_full_rotation() -> None:
    """28 pages a week = 2 per 12-hour shift: the most one rotation of 8 carries."""
    assert SHIFTS_PER_WEEK == 14
    full = oncall_load(28.0)
    assert full.pages_per_shift == 2.0 and full.rotations == 1 and full.engineers == 8
    over = oncall_load(28.5)
    assert over.rotations == 2 and over.engineers == 16


def test_a_quiet_pager_still_needs_a_rotation_of_eight() -> None:
    quiet = oncall_load(0.0)
    assert quiet.rotations == 1 and quiet.engineers == 8 and quiet.shift_over_budget_poisson == 0


def test_over_budget_is_the_poisson_tail() -> None:
    load = oncall_load(14.0)  # one page per shift on average
    assert load.shift_over_budget_poisson == pytest.approx(1 - stats.poisson.cdf(2, 1.0))

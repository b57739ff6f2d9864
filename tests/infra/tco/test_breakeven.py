"""Break-even utilization and payback: identities, and monotonicity as properties."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.infra.tco import breakeven as be
from mlfleet.infra.tco.opex import HOURS_PER_YEAR
from mlfleet.infra.tco.ownership import OwnedCost, owned_cost, resolve_inputs
from mlfleet.infra.tco.sensitivity import power_sensitivity


@cache
def _owned() -> OwnedCost:
    return owned_cost(resolve_inputs(accelerator="H100", gpus=512))


def test_breakeven_identity_owned_equals_cloud_at_u_star() -> None:
    u_star = float(be.breakeven_utilization(owned_usd_per_year=1e6, gpus=100,
                                            cloud_usd_per_gpu_h=2.0))
    assert u_star == pytest.approx(1e6 / (100 * HOURS_PER_YEAR * 2.0))
    at = be.owned_usd_per_used_gpu_h(owned_usd_per_year=1e6, gpus=100, utilization=u_star)
    assert float(at) == pytest.approx(2.0)


def test_payback_months_by_hand_and_never() -> None:
    assert be.breakeven_months(capex_usd=1.2e6, owned_opex_usd_per_month=20_000.0,
                               cloud_usd_per_month=120_000.0) == pytest.approx(12.0)
    assert math.isinf(be.breakeven_months(capex_usd=1.0, owned_opex_usd_per_month=5.0,
                                          cloud_usd_per_month=5.0))


@settings(max_examples=40, deadline=None)
@given(low=st.floats(0.2, 20.0), factor=st.floats(1.01, 10.0))
def test_breakeven_falls_as_cloud_price_rises(low: float, factor: float) -> None:
    u = be.breakeven_utilization(owned_usd_per_year=_owned().usd_per_year, gpus=512,
                                 cloud_usd_per_gpu_h=[low, low * factor])
    assert u[1] < u[0]


@settings(max_examples=40, deadline=None)
@given(price=st.floats(1e-3, 1.0), dprice=st.floats(1e-3, 1.0), pue=st.floats(1.0, 3.0),
       dpue=st.floats(1e-3, 1.0), utilization=st.floats(0.05, 1.0))
def test_tco_rises_with_electricity_price_and_pue(price: float, dprice: float, pue: float,
                                                  dpue: float, utilization: float) -> None:
    grid = power_sensitivity(_owned(), electricity_usd_per_kwh=[price, price + dprice],
                             pue=[pue, pue + dpue], utilization=utilization)
    cost = grid.usd_per_gpu_h
    assert cost[1, 0] > cost[0, 0]  # dearer power
    assert cost[0, 1] > cost[0, 0]  # worse PUE
    assert np.all(np.diff(grid.power_fraction, axis=0) > 0)


def test_sensitivity_equals_recomputing_the_owned_cost() -> None:
    # The vectorised grid is exact: each cell equals a full recomputation at that price/PUE.
    grid = power_sensitivity(_owned(), electricity_usd_per_kwh=[0.05, 0.2], pue=[1.1, 1.6],
                             utilization=0.7)
    for i, price in enumerate(grid.electricity_usd_per_kwh):
        for j, pue in enumerate(grid.pue):
            again = owned_cost(resolve_inputs(accelerator="H100", gpus=512,
                                              electricity_usd_per_kwh=float(price),
                                              pue=float(pue)))
            assert grid.usd_per_gpu_h[i, j] == pytest.approx(again.usd_per_gpu_h(0.7), rel=1e-12)


def test_sensitivity_refuses_a_negative_price_and_a_pue_below_one() -> None:
    with pytest.raises(InputError, match=r"electricity_usd_per_kwh\(=-0.1\)"):
        power_sensitivity(_owned(), electricity_usd_per_kwh=[-0.1], pue=[1.2], utilization=0.5)
    with pytest.raises(InputError, match=r"pue\(=0.9\) must be >= 1"):
        power_sensitivity(_owned(), electricity_usd_per_kwh=[0.1], pue=[0.9], utilization=0.5)

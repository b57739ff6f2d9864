"""Hybrid strategy: the quantile rule against a brute-force search, and its limits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.infra.tco import hybrid


@settings(max_examples=60, deadline=None)
@given(demand=st.lists(st.floats(0.0, 1e4), min_size=1, max_size=200),
       c_o=st.floats(0.1, 5.0), c_c=st.floats(0.1, 10.0))
def test_quantile_rule_is_the_cheapest_mix(demand: list[float], c_o: float, c_c: float) -> None:
    # cost(x) is convex and piecewise linear with breakpoints at the demand samples, so a
    # search over 0 and every sample finds its minimum exactly.
    d = np.asarray(demand)
    best = hybrid.best_owned_gpus(d, owned_usd_per_gpu_h=c_o, cloud_usd_per_gpu_h=c_c)
    rule = hybrid.plan(d, owned_gpus=best, owned_usd_per_gpu_h=c_o, cloud_usd_per_gpu_h=c_c)
    search = min(hybrid.plan(d, owned_gpus=float(x), owned_usd_per_gpu_h=c_o,
                             cloud_usd_per_gpu_h=c_c).cost_usd for x in [0.0, *demand])
    assert rule.cost_usd == pytest.approx(search, rel=1e-9, abs=1e-6)


def test_flat_demand_is_all_owned_and_dear_owning_is_all_rented() -> None:
    flat = hybrid.demand_profile(mean_gpus=100.0, amplitude=0.0)
    assert hybrid.best_owned_gpus(flat, owned_usd_per_gpu_h=2.0, cloud_usd_per_gpu_h=3.0) \
        == pytest.approx(100.0)
    swing = hybrid.demand_profile(mean_gpus=100.0, amplitude=0.5)
    assert hybrid.best_owned_gpus(swing, owned_usd_per_gpu_h=3.0, cloud_usd_per_gpu_h=3.0) == 0.0


def test_plan_by_hand() -> None:
    # Demand 10, 20, 30 GPUs for one hour each; own 20 at $1, rent the 10 over at $3.
    p = hybrid.plan(np.asarray([10.0, 20.0, 30.0]), owned_gpus=20.0, owned_usd_per_gpu_h=1.0,
                    cloud_usd_per_gpu_h=3.0)
    assert (p.owned_usd, p.rented_gpu_h, p.rented_usd, p.cost_usd) == (60.0, 10.0, 30.0, 90.0)
    assert p.owned_utilization == pytest.approx(50.0 / 60.0)


def test_diurnal_profile_mean_and_peak() -> None:
    d = hybrid.demand_profile(mean_gpus=100.0, amplitude=0.5, hours=24 * 7)
    assert float(np.mean(d)) == pytest.approx(100.0, abs=1e-9)
    assert float(np.max(d)) == pytest.approx(150.0, rel=0.01)

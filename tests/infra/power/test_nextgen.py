"""A next-generation refresh in a power-limited facility, checked by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import ConstraintViolation, InputError
from mlfleet.infra.power import nextgen as ng


def test_h100_to_b200_in_20_mw_by_hand() -> None:
    # IT = 20 MW / 1.58 = 12.658 MW; 10.2 kW H100 nodes: floor(12.658e6 / 10.2e3) = 1241
    # nodes in ceil(1241 / 4) = 311 air racks. B200 nodes at the published 14.3 kW.
    r = ng.next_generation(old="H100", new="B200", facility_w=20e6, new_node_w=14_300)
    it = 20e6 / 1.58
    assert (r.old_nodes, r.old_racks) == (1241, 311)
    assert r.swap_headroom_w == pytest.approx(it - 1241 * 14_300)
    assert r.new_nodes_per_air_rack == 2                 # floor(40.8 / 14.3)
    assert r.racks_to_liquid == math.ceil((1241 - 2 * 311) / 8)  # 8 x 14.3 kW in 120 kW
    assert r.fill_nodes == int(it // 14_300)
    assert r.iso_nodes == math.ceil(1241 * 989.5 / 2250)  # same peak BF16 FLOP/s


def test_capping_to_keep_four_b200_nodes_per_air_rack_costs_speed() -> None:
    r = ng.next_generation(old="H100", new="B200", facility_w=20e6, new_node_w=14_300)
    # 10.2 kW per node allowed, host 14.3 - 8 = 6.3 kW: GPUs get 3.9 kW / 8 = 487.5 W.
    assert r.capped_fraction == pytest.approx(0.4875)
    assert 0 < r.capped_speed < 0.6


def test_same_generation_swap_changes_nothing() -> None:
    r = ng.next_generation(old="H100", new="H200", facility_w=5e6)
    assert r.swap_headroom_w >= 0 and r.racks_to_liquid == 0
    assert r.capped_fraction == pytest.approx(1.0) and r.capped_speed == pytest.approx(1.0)


def test_tiny_facility_is_a_constraint() -> None:
    with pytest.raises(ConstraintViolation, match="cannot hold"):
        ng.next_generation(old="H100", new="B200", facility_w=5e3)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"facility_w": -1.0}, r"facility_w\(=-1\)"),
    ({"facility_w": 1e6, "pue": 0.5}, r"pue\(=0.5\)"),
    ({"facility_w": 1e6, "rack_limit_w": 0.0}, r"rack_limit_w\(=0\)"),
])
def test_bad_input(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(InputError, match=match):
        ng.next_generation(old="H100", new="B200", **kwargs)  # type: ignore[arg-type]


@given(st.floats(0.1, 200.0), st.floats(1.0, 2.5))
def test_budget_invariants(mw: float, pue: float) -> None:
    r = ng.next_generation(old="A100", new="H100", facility_w=mw * 1e6, pue=pue)
    assert r.old_nodes * r.old_node_w <= r.it_budget_w
    assert r.fill_nodes * r.new_node_w <= r.it_budget_w
    assert r.iso_nodes * 8 * 989.5e12 >= r.old_peak_flops_per_s

"""Facility power, racks and PDUs against published layouts and hand computations."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet import catalog
from mlfleet.catalog.types import Accelerator
from mlfleet.errors import CatalogError, ConstraintViolation, InputError
from mlfleet.infra.power import facility as fac


def test_dgx_h100_node_power_is_reproduced_from_the_overhead_it_defines() -> None:
    # Equation (1) with the DGX H100's own overhead returns its 10.2 kW exactly.
    acc = Accelerator.from_name("H100")
    assert fac.derived_node_power_w(acc, 8) == pytest.approx(10_200.0)


def test_dgx_b200_node_power_predicted_within_2_percent() -> None:
    # Published: DGX B200 ~14.3 kW max (NVIDIA DGX B200 user guide); predicted from the
    # H100 host overhead: 8 x 1000 W x 1.821 = 14.57 kW, +1.9 %.
    acc = Accelerator.from_name("B200")
    published = catalog.get("DGX-B200-power").require("node_power_w")
    error = fac.derived_node_power_w(acc, 8) / published - 1
    assert abs(error) < 0.02
    assert error == pytest.approx(0.0189, abs=5e-4)


def test_superpod_h100_layout() -> None:
    # NVIDIA DGX SuperPOD H100 data center design: 4 DGX H100 per air-cooled rack
    # (40.8 kW), 32 systems per scalable unit -> 8 racks per SU; 4 SUs = 32 racks.
    r = fac.facility_power(accelerator="H100", gpus=1024, gpus_per_node=8)
    assert (r.cooling, r.nodes, r.nodes_per_rack, r.racks) == ("air", 128, 4, 32)
    assert r.rack_power_w == pytest.approx(40_800.0)
    assert r.it_power_w == pytest.approx(128 * 10_200.0)
    assert r.facility_power_w == pytest.approx(r.it_power_w * 1.58)


def test_dgx_b200_scalable_unit_power_matches_nvidia() -> None:
    # NVIDIA: a 32-system DGX B200 SU draws about 458 kW; 32 x 14.3 kW = 457.6 kW (-0.1 %).
    r = fac.facility_power(accelerator="B200", gpus=256, gpus_per_node=8, node_power_w=14_300)
    published = catalog.get("DGX-B200-power").require("su_power_w")
    assert r.it_power_w / published - 1 == pytest.approx(-0.00087, abs=1e-4)


def test_pdu_capacity_matches_the_published_208v_figure() -> None:
    # CMU: a 208 V 60 A three-phase PDU carries 48 A continuously, 17,293 W.
    pdu = catalog.get("pdu-208v-60a")
    got = fac.pdu_capacity_w(volts=pdu.require("volts"), amps=pdu.require("amps"),
                             phases=pdu.require("phases"),
                             continuous_fraction=pdu.require("continuous_fraction"))
    assert got == pytest.approx(pdu.require("usable_w"), abs=1.0)


def test_three_pdus_for_a_56kw_b300_rack() -> None:
    # NVIDIA DGX B300 RA: four DGX B300 per ~56 kW rack with three 2U PDUs (N+1 of
    # 415 V 60 A PDUs at 34.5 kW each).
    r = fac.facility_power(accelerator="B200", gpus=32, gpus_per_node=8, node_power_w=14_000,
                           rack_limit_w=56_000, cooling="air")
    published = catalog.get("pdu-415v-60a").require("pdus_per_rack_redundant")
    assert (r.nodes_per_rack, r.pdus_per_rack) == (4, published)


def test_hand_computation_with_a_partial_last_rack() -> None:
    # 100 GPUs, 4 per node at 3 kW, 10 kW racks: 25 nodes, 3 per rack, 9 racks (8 full
    # + 1 node); PUE 1.2 -> 75 kW IT, 90 kW facility; PDUs: 8 x (1 + 1) + (1 + 1) = 18.
    r = fac.facility_power(accelerator="H100", gpus=100, gpus_per_node=4, node_power_w=3_000,
                           pue=1.2, rack_limit_w=10_000, cooling="air")
    assert (r.nodes, r.nodes_per_rack, r.racks, r.pdus) == (25, 3, 9, 18)
    assert r.it_power_w == pytest.approx(75_000)
    assert r.facility_power_w == pytest.approx(90_000)


def test_auto_cooling_moves_a_gb200_class_node_to_liquid() -> None:
    r = fac.facility_power(accelerator="B200", gpus=72, gpus_per_node=72, node_power_w=120_000)
    assert (r.cooling, r.racks) == ("liquid", 1)
    assert r.pue == pytest.approx(1.10)


def test_node_larger_than_the_rack_is_a_constraint() -> None:
    with pytest.raises(ConstraintViolation, match="rack limit"):
        fac.facility_power(accelerator="B200", gpus=72, gpus_per_node=72,
                           node_power_w=120_000, cooling="air")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"pue": 0.9}, r"pue\(=0.9\) must be a finite number >= 1"),
    ({"node_power_w": -5.0}, r"node_power_w\(=-5\)"),
    ({"rack_limit_w": 0.0}, r"rack_limit_w\(=0\)"),
    ({"gpus": 0}, r"gpus\(=0\)"),
    ({"cooling": "oil"}, r"cooling\(='oil'\) is unknown"),
])
def test_bad_input_names_the_value(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"accelerator": "H100", "gpus": 8, "gpus_per_node": 8, **kwargs}
    with pytest.raises(InputError, match=match):
        fac.facility_power(**args)  # type: ignore[arg-type]


def test_unknown_accelerator_says_did_you_mean() -> None:
    with pytest.raises(CatalogError, match="closest: H100"):
        fac.facility_power(accelerator="H10", gpus=8, gpus_per_node=8)


def test_chip_without_tdp_needs_a_node_power() -> None:
    with pytest.raises(InputError, match="node power"):
        fac.facility_power(accelerator="TPU-v5p", gpus=8, gpus_per_node=4)


@given(gpus=st.integers(1, 20_000), per_node=st.sampled_from([1, 4, 8]),
       node_kw=st.floats(0.5, 40.0), pue=st.floats(1.0, 3.0))
def test_layout_invariants(gpus: int, per_node: int, node_kw: float, pue: float) -> None:
    r = fac.facility_power(accelerator="H100", gpus=gpus, gpus_per_node=per_node,
                           node_power_w=node_kw * 1e3, pue=pue, cooling="air")
    assert r.nodes * per_node >= gpus > (r.nodes - 1) * per_node
    assert (r.racks - 1) * r.nodes_per_rack < r.nodes <= r.racks * r.nodes_per_rack
    assert r.rack_power_w <= r.rack_limit_w
    assert r.facility_power_w == pytest.approx(r.it_power_w * pue)
    assert r.pdus >= 2 * r.racks
    assert r.pdus_per_rack == math.ceil(r.rack_power_w / r.pdu_usable_w) + 1


def test_gb200_scalable_unit_against_nvidia_su_power() -> None:
    # NVIDIA: one DGX GB200 SU (8 NVL72 racks, 576 GPUs) requires 1.2 MW TDP, network and
    # management racks included; the compute racks at 120 kW each give 0.96 MW (-20 %).
    r = fac.facility_power(accelerator="B200", gpus=576, gpus_per_node=72,
                           node_power_w=120_000)
    published = catalog.get("liquid-cooled").require("su_power_w")
    assert r.racks == 8
    assert r.it_power_w / published - 1 == pytest.approx(-0.20, abs=1e-9)


def test_annual_energy_cost_by_hand() -> None:
    # One DGX H100 at 10.2 kW, PUE 1.58, all year at the EIA 2023 US industrial 8.06 c/kWh:
    # 10.2 x 1.58 x 8,760 x 0.0806 = $11,379.
    price, source = fac.default_electricity_usd_per_kwh()
    assert price == pytest.approx(0.0806) and "EIA" in source
    assert fac.annual_energy_usd(10_200 * 1.58, price) == pytest.approx(11_378.8, abs=0.1)
    assert fac.annual_energy_usd(1000.0, 0.1, load_fraction=0.5) == pytest.approx(438.0)


def test_negative_price_is_refused() -> None:
    with pytest.raises(InputError, match=r"usd_per_kwh\(=-0.1\) must be a finite number >= 0"):
        fac.annual_energy_usd(1000.0, -0.1)

"""Capex and opex against hand-computed cases, and the fabric against the topology chapter."""

from __future__ import annotations

import pytest

from mlfleet.errors import InputError
from mlfleet.infra.tco import capex as cx
from mlfleet.infra.tco import opex as ox
from mlfleet.infra.topology.cost import fabric_bill


def test_capex_by_item_by_hand() -> None:
    # 16 GPUs at $30,000 + $6,250 host share, a $100,000 fabric, 20 kW IT at $11.7/W.
    c = cx.capex(gpus=16, purchase_usd_per_gpu=30_000.0, server_host_usd_per_gpu=6_250.0,
                 network_usd=100_000.0, it_power_w=20_000.0, build_usd_per_it_w=11.7)
    assert (c.accelerators_usd, c.servers_usd, c.network_usd) == (480_000.0, 100_000.0, 100_000.0)
    assert c.facility_usd == pytest.approx(234_000.0)
    assert c.hardware_usd == 680_000.0
    assert c.total_usd == pytest.approx(914_000.0)


def test_one_node_needs_no_fabric_and_more_use_the_topology_bill() -> None:
    assert cx.network_bill(gpus=8, gpus_per_node=8).capex_usd == 0.0
    bill = cx.network_bill(gpus=1024, gpus_per_node=8)
    reference = fabric_bill(endpoints=1024, kind="fat-tree")
    assert (bill.capex_usd, bill.power_w) == (reference.capex_usd, reference.power_w)


def test_energy_by_hand() -> None:
    # 1 MW IT x PUE 1.5 for one year of 365.2425 days at $0.10/kWh.
    hours = 365.2425 * 24
    usd = ox.energy_usd_per_year(it_power_w=1e6, pue=1.5, electricity_usd_per_kwh=0.10)
    assert usd == pytest.approx(1_000.0 * 1.5 * hours * 0.10)
    assert pytest.approx(hours) == ox.HOURS_PER_YEAR


def test_opex_items_by_hand() -> None:
    o = ox.opex(it_power_w=0.0, pue=1.2, electricity_usd_per_kwh=0.1, gpus=1000,
                salary_usd_per_year=100_000.0, hardware_capex_usd=2e6,
                storage_usd_per_gb_month=0.1,
                assumptions=ox.Assumptions(gpus_per_admin=500.0, maintenance_fraction_per_year=0.05,
                                           storage_bytes_per_gpu=1e12))
    assert o.power_usd_per_year == 0.0
    assert o.staff_usd_per_year == pytest.approx(2 * 100_000.0 * ox.STAFF_OVERHEAD)
    assert o.maintenance_usd_per_year == pytest.approx(100_000.0)
    assert o.storage_usd_per_year == pytest.approx(1000 * 1000 * 0.1 * 12)
    assert o.total_usd_per_year == pytest.approx(260_000.0 + 100_000.0 + 1_200_000.0)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"it_power_w": 1.0, "pue": 0.9, "electricity_usd_per_kwh": 0.1}, "pue(=0.9) must be >= 1 and <= 10"),
    ({"it_power_w": 1.0, "pue": 1.2, "electricity_usd_per_kwh": -0.1},
     "electricity_usd_per_kwh(=-0.1)"),
])
def test_bad_energy_inputs_name_the_value(kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        ox.energy_usd_per_year(**kwargs)

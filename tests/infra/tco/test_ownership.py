"""Owned cost per year and per GPU-hour, the plan's monthly cost, and where defaults come from."""

from __future__ import annotations

import pytest

from mlfleet.errors import CatalogError, InputError
from mlfleet.infra.power.facility import facility_power
from mlfleet.infra.tco import ownership as own
from mlfleet.infra.tco.opex import HOURS_PER_MONTH, HOURS_PER_YEAR, SECONDS_PER_YEAR


def test_owned_cost_by_hand_from_its_inputs() -> None:
    inputs = own.resolve_inputs(accelerator="H100", gpus=64, purchase_usd_per_gpu=30_000.0,
                                electricity_usd_per_kwh=0.1, pue=1.25,
                                amortization_s=4 * SECONDS_PER_YEAR)
    o = own.owned_cost(inputs)
    nodes_w = facility_power(accelerator="H100", gpus=64, gpus_per_node=8).it_power_w
    assert inputs.it_power_w == pytest.approx(nodes_w + inputs.network.power_w)
    hardware = 64 * 30_000.0 + 64 * inputs.server_host_usd_per_gpu + inputs.network.capex_usd
    assert o.capex.hardware_usd == pytest.approx(hardware)
    per_year = hardware / 4 + o.capex.facility_usd / own.FACILITY_YEARS + o.opex.total_usd_per_year
    assert o.usd_per_year == pytest.approx(per_year)
    assert o.tco_usd == pytest.approx(4 * per_year)
    assert o.usd_per_gpu_h(0.5) == pytest.approx(per_year / (64 * HOURS_PER_YEAR * 0.5))


def test_monthly_cost_identities() -> None:
    m = own.monthly_cost(accelerator="H100", gpus=1024, gpus_per_node=8, utilization=0.5,
                         cloud_usd_per_gpu_h=4.0)
    assert m.cloud_usd_per_month == pytest.approx(1024 * HOURS_PER_MONTH * 0.5 * 4.0)
    # Break-even identity: owned cost per provisioned GPU-hour / cloud price.
    provisioned = m.owned_usd_per_month / (1024 * HOURS_PER_MONTH)
    assert m.breakeven_utilization == pytest.approx(provisioned / 4.0)
    assert m.owned_usd_per_gpu_h == pytest.approx(provisioned / 0.5)
    # At the break-even utilization owning and renting cost the same per used GPU-hour.
    at = own.monthly_cost(accelerator="H100", gpus=1024, gpus_per_node=8,
                          utilization=m.breakeven_utilization, cloud_usd_per_gpu_h=4.0)
    assert at.owned_usd_per_gpu_h == pytest.approx(4.0)
    assert at.owned_usd_per_month == pytest.approx(at.cloud_usd_per_month)


def test_every_default_names_its_source() -> None:
    m = own.monthly_cost(accelerator="H100", gpus=64, gpus_per_node=8)
    assert m.utilization == own.DEFAULT_UTILIZATION
    for key in ("purchase_usd_per_gpu", "electricity_usd_per_kwh", "build_usd_per_it_w",
                "server_host_usd_per_gpu", "sysadmin_salary_usd_per_year", "cloud_usd_per_gpu_h",
                "storage_usd_per_gb_month"):
        assert "http" in m.sources[key], (key, m.sources[key])
    given = own.monthly_cost(accelerator="H100", gpus=64, gpus_per_node=8,
                             electricity_usd_per_kwh=0.2, cloud_usd_per_gpu_h=3.0)
    assert given.sources["electricity_usd_per_kwh"] == "given"
    assert given.sources["cloud_usd_per_gpu_h"] == "given"


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"accelerator": "H900"}, CatalogError, "unknown accelerator name 'H900'"),
    ({"utilization": 0.0}, InputError, "utilization(=0)"),
    ({"utilization": 1.5}, InputError, "utilization(=1.5)"),
    ({"electricity_usd_per_kwh": -0.1}, InputError, "electricity_usd_per_kwh(=-0.1)"),
    ({"cloud_usd_per_gpu_h": -2.0}, InputError, "cloud_usd_per_gpu_h(=-2)"),
    ({"amortization_s": 0.0}, InputError, "amortization_s(=0)"),
    ({"pue": 0.8}, InputError, "pue(=0.8)"),
    ({"accelerator": "TPU-v4"}, CatalogError, "no purchase price"),
])
def test_bad_input_is_one_clear_error(kwargs: dict[str, object], error: type[Exception],
                                      fragment: str) -> None:
    args: dict[str, object] = {"accelerator": "H100", "gpus": 64, "gpus_per_node": 8, **kwargs}
    with pytest.raises(error) as info:
        own.monthly_cost(**args)  # type: ignore[arg-type]
    assert fragment in str(info.value)

"""Owned cost of one device-hour: purchase over the refresh cycle plus power.

Fidelity: model (exact arithmetic on catalog values):

    usd_per_h = purchase_usd / (refresh_years · 8760 h)
              + tdp_w · PUE · electricity_usd_per_kwh / 1000

A GPU's purchase price is the low end of its catalog range; a host CPU socket's is half
the host share of a server (``offer.yaml`` ``on-premises``: CPUs, memory, NICs, chassis of
an 8-GPU node, two sockets). PUE is the air-cooled hall's (Uptime Institute 2023 average),
electricity the US industrial average (EIA 2023), the refresh cycle that of
:mod:`mlfleet.infra.tco.ownership`. Staff, network and building are left out: this is the
per-device price used to compare placements, not a TCO.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.catalog.types import Accelerator
from mlfleet.errors import InputError
from mlfleet.infra.power.facility import default_electricity_usd_per_kwh
from mlfleet.infra.tco.opex import HOURS_PER_YEAR
from mlfleet.infra.tco.ownership import DEFAULT_REFRESH_YEARS

HOST_SOCKETS_PER_SERVER = 2
"""Sockets the catalog's host share of a server pays for."""


@dataclass(frozen=True, kw_only=True)
class DeviceHour:
    """What one device costs per hour owned, and from what."""

    name: str
    purchase_usd: float
    tdp_w: float
    capex_usd_per_h: float
    power_usd_per_h: float
    basis: str

    @property
    def usd_per_h(self) -> float:
        return self.capex_usd_per_h + self.power_usd_per_h


def _purchase(acc: Accelerator) -> tuple[float, str]:
    if acc.purchase_usd is not None:
        return acc.purchase_usd[0], "catalog purchase price (low end)"
    if acc.name == "host-cpu":
        host = catalog.get("on-premises", kind="offer").require("server_host_usd_per_node")
        return host / HOST_SOCKETS_PER_SERVER, "half the host share of an 8-GPU server"
    raise InputError(f"{acc.name} has no purchase price in the catalog, so no owned cost "
                     "per hour; pick a device with one (e.g. H100, A100, host-cpu)")


def device_hour(accelerator: str) -> DeviceHour:
    """Owned USD per hour of one device (module docstring); InputError without a price or
    TDP, CatalogError for an unknown name."""
    acc = Accelerator.from_name(accelerator)
    if acc.tdp_w is None:
        raise InputError(f"{acc.name} has no published TDP, so no power cost per hour")
    purchase, basis = _purchase(acc)
    price, _ = default_electricity_usd_per_kwh()
    pue = float(catalog.get("air-cooled", kind="facility").require("pue"))
    return DeviceHour(name=acc.name, purchase_usd=purchase, tdp_w=acc.tdp_w,
                      capex_usd_per_h=purchase / (DEFAULT_REFRESH_YEARS * HOURS_PER_YEAR),
                      power_usd_per_h=acc.tdp_w * pue * price / 1000.0,
                      basis=f"{basis}, {DEFAULT_REFRESH_YEARS:g}-year refresh; "
                            f"TDP x PUE {pue} x ${price}/kWh")

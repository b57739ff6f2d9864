"""Total cost of owning a GPU cluster over its refresh cycle, per year, month and GPU-hour.

The hardware (accelerators, servers, network) is written off over the refresh cycle
(``amortization_s``); the building over ``FACILITY_YEARS``; opex is paid every year. The
owned cost per *used* GPU-hour at utilization ``u`` is the cost per year over
``gpus x hours per year x u`` (:mod:`mlfleet.infra.tco.breakeven`).

Inputs left as None take the catalog's default with its citation (``sources``): purchase
price (middle of the accelerator's published range), server host share, facility build
cost, electricity price and salary (``offer.yaml``), IT power and PUE from the power
chapter (``mlfleet.infra.power.facility``), the fabric from the topology chapter.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.catalog.types import Accelerator
from mlfleet.checks import fraction, non_negative, positive, positive_int
from mlfleet.errors import CatalogError
from mlfleet.infra.tco import capex as capex_model
from mlfleet.infra.tco import opex as opex_model
from mlfleet.infra.tco.breakeven import breakeven_utilization
from mlfleet.infra.tco.offers import default_offer, ownership_defaults
from mlfleet.infra.tco.opex import HOURS_PER_MONTH, HOURS_PER_YEAR, SECONDS_PER_YEAR

DEFAULT_REFRESH_YEARS = 4.0
"""Assumption: hardware is written off and replaced every 4 years (two GPU generations)."""
FACILITY_YEARS = 15.0
"""Assumption: the building and its power and cooling plant last 15 years."""
DEFAULT_UTILIZATION = 0.6
"""Assumption: the fraction of GPU-hours doing paid-for work when none is given."""
STORAGE_SERVICE = "parallel-fs"
"""Catalog storage medium whose price per GB-month prices the shared storage."""


@dataclass(frozen=True, kw_only=True)
class OwnershipInputs:
    """Every number an owned-cost calculation used, resolved from arguments or the catalog."""

    accelerator: str
    gpus: int
    gpus_per_node: int
    purchase_usd_per_gpu: float
    server_host_usd_per_gpu: float
    network: capex_model.NetworkBill
    it_power_w: float
    """Nodes (from the power chapter) plus the fabric's switches."""
    pue: float
    electricity_usd_per_kwh: float
    salary_usd_per_year: float
    storage_usd_per_gb_month: float
    build_usd_per_it_w: float
    amortization_s: float
    assumptions: opex_model.Assumptions
    sources: dict[str, str]
    """Input name -> where its value came from ('given' for an argument)."""


@dataclass(frozen=True, kw_only=True)
class OwnedCost:
    """Capex, opex and what they come to per year and per used GPU-hour."""

    inputs: OwnershipInputs
    capex: capex_model.Capex
    opex: opex_model.Opex

    @property
    def years(self) -> float:
        return self.inputs.amortization_s / SECONDS_PER_YEAR

    @property
    def usd_per_year(self) -> float:
        """Hardware over the refresh cycle + facility over its life + opex."""
        return (self.capex.hardware_usd / self.years + self.capex.facility_usd / FACILITY_YEARS
                + self.opex.total_usd_per_year)

    @property
    def cycle_capex_usd(self) -> float:
        """Capex one refresh cycle must pay back: the hardware, and the building's share
        (it outlives ``FACILITY_YEARS / years`` cycles)."""
        return self.capex.hardware_usd + self.capex.facility_usd * self.years / FACILITY_YEARS

    @property
    def tco_usd(self) -> float:
        """The cost of one refresh cycle."""
        return self.usd_per_year * self.years

    def usd_per_gpu_h(self, utilization: float) -> float:
        """Owned cost per used GPU-hour at ``utilization`` in (0, 1]."""
        u = fraction("utilization", utilization, open_low=True)
        return self.usd_per_year / (self.inputs.gpus * HOURS_PER_YEAR * u)


def resolve_inputs(*, accelerator: str, gpus: int, gpus_per_node: int = 8,
                   purchase_usd_per_gpu: float | None = None,
                   electricity_usd_per_kwh: float | None = None, pue: float | None = None,
                   amortization_s: float | None = None,
                   assumptions: opex_model.Assumptions | None = None) -> OwnershipInputs:
    """The inputs, each from its argument or the catalog (module docstring)."""
    positive_int("gpus", gpus)
    positive_int("gpus_per_node", gpus_per_node)
    acc = Accelerator.from_name(accelerator)
    defaults = ownership_defaults()
    price, price_src = _purchase_price(acc, purchase_usd_per_gpu)
    network = capex_model.network_bill(gpus=gpus, gpus_per_node=gpus_per_node)
    nodes_w, pue_used, pue_src = _facility(acc.name, gpus, gpus_per_node, pue)
    storage = catalog.get(STORAGE_SERVICE, kind="storage")
    sources = dict(defaults.sources)
    sources.update(purchase_usd_per_gpu=price_src, pue=pue_src,
                   it_power_w="mlfleet.infra.power.facility.facility_power + " + network.model,
                   storage_usd_per_gb_month=storage.values["cost_usd_per_gb_month"].source,
                   amortization_s=f"assumption: {DEFAULT_REFRESH_YEARS:g}-year refresh cycle")
    for name, value in (("electricity_usd_per_kwh", electricity_usd_per_kwh),
                        ("amortization_s", amortization_s)):
        if value is not None:
            sources[name] = "given"
    return OwnershipInputs(
        accelerator=acc.name, gpus=gpus, gpus_per_node=gpus_per_node,
        purchase_usd_per_gpu=price, server_host_usd_per_gpu=defaults.server_host_usd_per_gpu,
        network=network, it_power_w=nodes_w + network.power_w, pue=pue_used,
        electricity_usd_per_kwh=_given_or(electricity_usd_per_kwh,
                                          defaults.electricity_usd_per_kwh,
                                          "electricity_usd_per_kwh", allow_zero=True),
        salary_usd_per_year=defaults.sysadmin_salary_usd_per_year,
        storage_usd_per_gb_month=float(storage.require("cost_usd_per_gb_month")),
        build_usd_per_it_w=defaults.build_usd_per_it_w,
        amortization_s=_given_or(amortization_s, DEFAULT_REFRESH_YEARS * SECONDS_PER_YEAR,
                                 "amortization_s"),
        assumptions=assumptions or opex_model.Assumptions(), sources=sources)


def _given_or(value: float | None, default: float, name: str, *,
              allow_zero: bool = False) -> float:
    if value is None:
        return default
    return non_negative(name, value) if allow_zero else positive(name, value)


def _purchase_price(acc: Accelerator, given: float | None) -> tuple[float, str]:
    if given is not None:
        return positive("purchase_usd_per_gpu", given), "given"
    if acc.purchase_usd is None:
        raise CatalogError(f"{acc.name} has no purchase price in the catalog; give one "
                           "(--purchase-price, prices.purchase_usd_per_gpu)")
    low, high = acc.purchase_usd
    source = catalog.get(acc.name, kind="accelerator").values["price.purchase_usd_low"].source
    return (low + high) / 2.0, f"middle of ${low:,.0f}-${high:,.0f}: {source}"


def _facility(accelerator: str, gpus: int, gpus_per_node: int,
              pue: float | None) -> tuple[float, float, str]:
    """IT power of the nodes, the PUE used and where it came from (the power chapter)."""
    from mlfleet.infra.power.facility import facility_power

    if pue is not None:
        opex_model.check_pue(pue)
    power = facility_power(accelerator=accelerator, gpus=gpus, gpus_per_node=gpus_per_node,
                           pue=pue)
    source = "given" if pue is not None else "mlfleet.infra.power.facility default"
    return float(power.it_power_w), float(power.pue), source


def owned_cost(inputs: OwnershipInputs) -> OwnedCost:
    """Capex and opex of ``inputs`` (the arithmetic of :mod:`capex` and :mod:`opex`)."""
    bought = capex_model.capex(
        gpus=inputs.gpus, purchase_usd_per_gpu=inputs.purchase_usd_per_gpu,
        server_host_usd_per_gpu=inputs.server_host_usd_per_gpu,
        network_usd=inputs.network.capex_usd, it_power_w=inputs.it_power_w,
        build_usd_per_it_w=inputs.build_usd_per_it_w)
    running = opex_model.opex(
        it_power_w=inputs.it_power_w, pue=inputs.pue,
        electricity_usd_per_kwh=inputs.electricity_usd_per_kwh, gpus=inputs.gpus,
        salary_usd_per_year=inputs.salary_usd_per_year, hardware_capex_usd=bought.hardware_usd,
        storage_usd_per_gb_month=inputs.storage_usd_per_gb_month, assumptions=inputs.assumptions)
    return OwnedCost(inputs=inputs, capex=bought, opex=running)


@dataclass(frozen=True, kw_only=True)
class MonthlyCost:
    """Owned vs on-demand cloud per month at a utilization, and the break-even utilization."""

    owned_usd_per_month: float
    """Capex amortised + power + staff + maintenance + storage, used or not."""
    cloud_usd_per_month: float
    """On-demand GPU-hours actually used: gpus x hours x utilization x price."""
    owned_usd_per_gpu_h: float
    """Owned cost per used GPU-hour at ``utilization``."""
    cloud_usd_per_gpu_h: float
    utilization: float
    breakeven_utilization: float
    """Above this, owning is cheaper than on-demand (> 1: never)."""
    sources: dict[str, str]


def monthly_cost(*, accelerator: str, gpus: int, gpus_per_node: int,
                 utilization: float | None = None,
                 electricity_usd_per_kwh: float | None = None, pue: float | None = None,
                 cloud_usd_per_gpu_h: float | None = None,
                 purchase_usd_per_gpu: float | None = None,
                 amortization_s: float | None = None) -> MonthlyCost:
    """What the plan shows: owned and cloud cost per month, break-even utilization.

    Arguments are the scenario's ``prices.*`` fields; None takes the catalog default.
    Raises InputError on bad input (a CatalogError for an unknown accelerator, or one the
    catalog has no purchase price for), ConstraintViolation when one node draws more than a
    rack can take (the power chapter's check).
    """
    u = DEFAULT_UTILIZATION if utilization is None else fraction("utilization", utilization,
                                                                 open_low=True)
    inputs = resolve_inputs(accelerator=accelerator, gpus=gpus, gpus_per_node=gpus_per_node,
                            purchase_usd_per_gpu=purchase_usd_per_gpu,
                            electricity_usd_per_kwh=electricity_usd_per_kwh, pue=pue,
                            amortization_s=amortization_s)
    price, price_src = cloud_price(inputs.accelerator, cloud_usd_per_gpu_h)
    owned = owned_cost(inputs)
    return MonthlyCost(
        owned_usd_per_month=owned.usd_per_year / 12.0,
        cloud_usd_per_month=gpus * HOURS_PER_MONTH * u * price,
        owned_usd_per_gpu_h=owned.usd_per_gpu_h(u), cloud_usd_per_gpu_h=price, utilization=u,
        breakeven_utilization=float(breakeven_utilization(
            owned_usd_per_year=owned.usd_per_year, gpus=gpus, cloud_usd_per_gpu_h=price)),
        sources={**inputs.sources, "cloud_usd_per_gpu_h": price_src,
                 "utilization": "given" if utilization is not None
                 else f"assumption: {DEFAULT_UTILIZATION:g}"})


def cloud_price(accelerator: str, given: float | None) -> tuple[float, str]:
    """The on-demand price per GPU-hour: given, else the catalog's offer, else the
    accelerator's lowest published price; CatalogError when the catalog has none."""
    if given is not None:
        return positive("cloud_usd_per_gpu_h", given), "given"
    found = default_offer(accelerator)
    if found is not None:
        return found.on_demand_usd_per_h, f"{found.name}: {found.source}"
    acc = Accelerator.from_name(accelerator)
    if acc.cloud_usd_per_h is None:
        raise CatalogError(f"{acc.name} has no cloud price in the catalog; give one "
                           "(--cloud-price, prices.cloud_usd_per_gpu_h)")
    entry = catalog.get(acc.name, kind="accelerator")
    return acc.cloud_usd_per_h[0], entry.values["price.cloud_usd_per_h_low"].source

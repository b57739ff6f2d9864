"""TCO tables: cost by deployment scale, break-even against the cloud, power-price sensitivity.

Every number comes from :mod:`mlfleet.infra.tco` (``mlfleet infra tco scale|breakeven|
sensitivity`` with their defaults); the inputs' citations are the ones the TCO model
reports in its ``sources``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlfleet.book.table import BookTable, Cited, Column, Input

if TYPE_CHECKING:
    from mlfleet.infra.tco.ownership import OwnedCost

ACCELERATOR = "H100-SXM"
"""The chip every TCO table owns."""
GPUS = 1024
"""Cluster size of the break-even and sensitivity tables."""
UTILIZATION = 0.6
"""Fraction of GPU-hours doing paid work (the ``mlfleet infra tco`` default)."""
ELECTRICITY_USD_PER_KWH = (0.04, 0.08, 0.12, 0.20, 0.30)
"""Rows of the sensitivity table."""
PUES = (1.1, 1.3, 1.58, 2.0)
"""Columns of the sensitivity table (1.58: the Uptime Institute 2023 survey average)."""


def _owned(gpus: int) -> OwnedCost:
    from mlfleet.infra.tco.ownership import owned_cost, resolve_inputs

    return owned_cost(resolve_inputs(accelerator=ACCELERATOR, gpus=gpus))


def _cited(sources: dict[str, str]) -> tuple[Input, ...]:
    return tuple(Cited(what=name, citation=text) for name, text in sorted(sources.items()))


_MODEL_NOTE = ("Model: capex (accelerators, host share, network bill, facility build per IT "
               "watt) + opex (power x PUE, staff, maintenance, storage), hardware written off "
               "over the refresh cycle (mlfleet.infra.tco; Barroso, Hölzle & Ranganathan, The "
               "Datacenter as a Computer, 3rd ed., ch. 6).")


def tco_by_scale() -> BookTable:
    """Capex, opex and cost per used GPU-hour from a node to a campus."""
    from mlfleet.infra.tco import tables
    from mlfleet.infra.tco.offers import ownership_defaults
    from mlfleet.infra.tco.ownership import cloud_price

    price, price_source = cloud_price(ACCELERATOR, None)
    defaults = ownership_defaults()
    rows = tables.scale_rows(accelerator=ACCELERATOR, scales=tables.SCALES, gpus_per_node=8,
                             utilization=UTILIZATION, cloud_usd_per_gpu_h=price,
                             defaults=defaults)
    body = [(r.gpus, r.capex_usd / 1e6, r.hardware_usd_per_gpu, r.published_hardware_usd_per_gpu,
             r.facility_power_w / 1e6, r.opex_usd_per_year / 1e6, r.tco_usd / 1e6,
             r.owned_usd_per_gpu_h, r.breakeven_utilization) for r in rows]
    return BookTable(
        id="infra.tco-by-scale",
        title=f"TCO by deployment scale: {ACCELERATOR} clusters owned, at utilization "
              f"{UTILIZATION:g}",
        columns=(Column(name="GPUs"), Column(name="capex", unit="USD million", fidelity="model"),
                 Column(name="hardware per GPU", unit="USD", fidelity="model"),
                 Column(name="published hardware per GPU", unit="USD", fidelity="published"),
                 Column(name="facility power", unit="MW", fidelity="model"),
                 Column(name="opex per year", unit="USD million", fidelity="model"),
                 Column(name="TCO per refresh cycle", unit="USD million", fidelity="model"),
                 Column(name="owned per used GPU-hour", unit="USD", fidelity="model"),
                 Column(name="break-even utilization vs on-demand", unit="fraction",
                        fidelity="model")),
        rows=tuple(body),
        inputs=(*_cited(_owned(rows[-1].gpus).inputs.sources),
                Cited(what="on-demand price", citation=price_source),
                Cited(what="published hardware per GPU",
                      citation=defaults.sources["reference_usd_per_gpu_all_in"])),
        notes=(_MODEL_NOTE, f"On-demand price {price:.2f} USD per GPU-hour; – : no published "
               "figure at that scale."))


def cloud_breakeven() -> BookTable:
    """Utilization above which owning beats each on-demand offer, and the payback months."""
    from mlfleet.infra.tco import tables
    from mlfleet.infra.tco.offers import cloud_offers

    owned = _owned(GPUS)
    offers = cloud_offers(ACCELERATOR)
    rows = tables.price_rows(owned, [(o.name, o.on_demand_usd_per_h) for o in offers],
                             utilization=UTILIZATION)
    body = [(r.label, r.cloud_usd_per_gpu_h, r.breakeven_utilization, r.payback_months,
             r.pays_back_in_cycle) for r in rows]
    return BookTable(
        id="infra.cloud-breakeven",
        title=f"Cloud vs on-premises break-even: {GPUS:,} {ACCELERATOR} owned, "
              f"{owned.years:g}-year refresh, utilization {UTILIZATION:g}",
        columns=(Column(name="on-demand offer"),
                 Column(name="price", unit="USD per GPU-hour", fidelity="published"),
                 Column(name="break-even utilization", unit="fraction", fidelity="model"),
                 Column(name="payback", unit="months", fidelity="model"),
                 Column(name="pays back within the refresh cycle")),
        rows=tuple(body),
        inputs=(*_cited(owned.inputs.sources),
                *(Cited(what=o.name, citation=o.source) for o in offers)),
        notes=(_MODEL_NOTE, "Break-even utilization u* = owned cost per year / (GPUs x hours "
               "per year x price); payback = capex / (rent per month - owned opex per month) "
               "(mlfleet.infra.tco.breakeven)."))


def power_cost_sensitivity() -> BookTable:
    """Owned cost per used GPU-hour on a grid of electricity prices and PUEs."""
    from mlfleet.infra.tco.sensitivity import power_sensitivity

    owned = _owned(GPUS)
    grid = power_sensitivity(owned, electricity_usd_per_kwh=list(ELECTRICITY_USD_PER_KWH),
                             pue=list(PUES), utilization=UTILIZATION)
    body = [(float(price), *(float(v) for v in grid.usd_per_gpu_h[i]),
             float(grid.power_fraction[i][-1]))
            for i, price in enumerate(grid.electricity_usd_per_kwh)]
    return BookTable(
        id="infra.power-cost-sensitivity",
        title=f"Power cost sensitivity: owned USD per used GPU-hour, {GPUS:,} {ACCELERATOR}, "
              f"utilization {UTILIZATION:g}",
        columns=(Column(name="electricity", unit="USD/kWh"),
                 *(Column(name=f"PUE {p:g}", unit="USD per GPU-hour", fidelity="model")
                       for p in PUES),
                 Column(name=f"power share at PUE {PUES[-1]:g}", unit="fraction",
                        fidelity="model")),
        rows=tuple(body),
        inputs=_cited(owned.inputs.sources),
        notes=(_MODEL_NOTE, "Only the power line depends on the price and the PUE: cost per "
               "year = fixed + IT watts x PUE x hours x price (mlfleet.infra.tco.sensitivity)."))

"""Typed views of the catalog's ``offer`` entries: cloud prices, spot terms, owning costs.

Every number carries the citation it came from (``sources``), so a table can say where
its default came from. Prices are per GPU-hour; see ``catalog/data/offer.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.errors import CatalogError


@dataclass(frozen=True, kw_only=True)
class CloudOffer:
    """One provider's prices for one accelerator, per GPU-hour."""

    name: str
    provider: str
    accelerator: str
    """Canonical catalog accelerator name."""
    on_demand_usd_per_h: float
    reserved_1y_usd_per_h: float | None = None
    """Effective hourly rate of a 1-year commitment (paid whether used or not)."""
    reserved_3y_usd_per_h: float | None = None
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class SpotTerms:
    """How much cheaper spot capacity is, and how often an instance is reclaimed."""

    discount: float
    """Fraction off the on-demand price (the conservative end of the published range)."""
    discount_max: float
    interruption_per_month: float
    """Fraction of instances reclaimed per month (a Spot Instance Advisor band)."""
    interruption_bands: tuple[float, ...]
    discount_source: str
    interruption_source: str


@dataclass(frozen=True, kw_only=True)
class OwnershipDefaults:
    """Costs of owning besides the accelerators, each with its citation."""

    server_host_usd_per_gpu: float
    """A server's host share (CPUs, memory, NICs, chassis) per GPU slot."""
    build_usd_per_it_w: float
    """Facility construction per watt of critical (IT) load."""
    electricity_usd_per_kwh: float
    sysadmin_salary_usd_per_year: float
    reference_usd_per_gpu_all_in: dict[int, float]
    """A published all-in cost per GPU by cluster size, to compare against."""
    reference_facility_ops_usd_per_gpu: float
    """The facility & ops share of that published figure, per GPU."""

    def reference_hardware_usd_per_gpu(self, gpus: int) -> float | None:
        """The published figure without its facility & ops share: GPUs, hosts, network."""
        all_in = self.reference_usd_per_gpu_all_in.get(gpus)
        return None if all_in is None else all_in - self.reference_facility_ops_usd_per_gpu
    sources: dict[str, str]
    """Field name -> citation."""


def offer(name: str) -> CloudOffer:
    """The cloud offer called ``name`` (CatalogError listing the closest names)."""
    e = catalog.get(name, kind="offer")
    if e.get("on_demand_usd_per_h") is None:
        raise CatalogError(f"offer {e.name!r} is not a cloud price list; known: "
                           f"{', '.join(o.name for o in cloud_offers())}")
    return CloudOffer(
        name=e.name, provider=str(e.require("provider")),
        accelerator=catalog.get(str(e.require("accelerator")), kind="accelerator").name,
        on_demand_usd_per_h=float(e.require("on_demand_usd_per_h")),
        reserved_1y_usd_per_h=_float_or_none(e.get("reserved_1y_usd_per_h")),
        reserved_3y_usd_per_h=_float_or_none(e.get("reserved_3y_usd_per_h")),
        source=e.values["on_demand_usd_per_h"].source)


def _float_or_none(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def cloud_offers(accelerator: str | None = None) -> list[CloudOffer]:
    """Every cloud offer, or those for one accelerator (any alias), catalog order."""
    wanted = None if accelerator is None else catalog.get(accelerator, kind="accelerator").name
    found = [offer(e.name) for e in catalog.entries("offer") if e.get("on_demand_usd_per_h")]
    return [o for o in found if wanted is None or o.accelerator == wanted]


def default_offer(accelerator: str) -> CloudOffer | None:
    """The offer a comparison uses when none is named: the first with reserved tiers, else
    the first; None when the catalog has no offer for this accelerator."""
    found = cloud_offers(accelerator)
    tiered = [o for o in found if o.reserved_1y_usd_per_h is not None]
    ranked = tiered or found
    return ranked[0] if ranked else None


def spot_terms() -> SpotTerms:
    """The catalog's spot discount and interruption rate."""
    e = catalog.get("spot-market", kind="offer")
    return SpotTerms(
        discount=float(e.require("discount_low")), discount_max=float(e.require("discount_high")),
        interruption_per_month=float(e.require("interruption_per_month")),
        interruption_bands=tuple(float(b) for b in e.require("interruption_bands")),
        discount_source=e.values["discount_low"].source,
        interruption_source=e.values["interruption_per_month"].source)


ELECTRICITY = "electricity-us-industrial"
"""Facility-catalog entry of the default electricity price."""
CONSTRUCTION = "construction-us"
"""Facility-catalog entry of the default build cost per MW of IT load."""


def ownership_defaults() -> OwnershipDefaults:
    """The catalog's costs of owning besides the accelerators and the fabric: the host share
    and salary (``offer.yaml``), electricity and construction (``facility.yaml``)."""
    e = catalog.get("on-premises", kind="offer")
    power = catalog.get(ELECTRICITY, kind="facility")
    build = catalog.get(CONSTRUCTION, kind="facility")
    pairs = list(e.require("reference_usd_per_gpu_all_in"))
    return OwnershipDefaults(
        server_host_usd_per_gpu=float(e.require("server_host_usd_per_node"))
        / float(e.require("node_reference_gpus")),
        build_usd_per_it_w=float(build.require("capex_usd_per_mw")) / 1e6,
        electricity_usd_per_kwh=float(power.require("price_usd_per_kwh")),
        sysadmin_salary_usd_per_year=float(e.require("sysadmin_salary_usd")),
        reference_usd_per_gpu_all_in={int(pairs[i]): float(pairs[i + 1])
                                      for i in range(0, len(pairs), 2)},
        reference_facility_ops_usd_per_gpu=float(e.require("reference_facility_ops_usd_per_node"))
        / float(e.require("node_reference_gpus")),
        sources={"server_host_usd_per_gpu": e.values["server_host_usd_per_node"].source,
                 "build_usd_per_it_w": build.values["capex_usd_per_mw"].source,
                 "electricity_usd_per_kwh": power.values["price_usd_per_kwh"].source,
                 "sysadmin_salary_usd_per_year": e.values["sysadmin_salary_usd"].source,
                 "reference_usd_per_gpu_all_in":
                     e.values["reference_usd_per_gpu_all_in"].source})

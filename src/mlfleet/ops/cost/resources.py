"""Resources a workload is charged for, and their prices (OpenCost specification v0.1).

Allocation resources are billed per unit-hour whether used or not (GPUs, CPU cores, RAM and
storage in GB, GB = 1e9 bytes); network egress is a usage resource, billed per GB moved,
and is never idle (the spec's footnote 1).

Defaults: OpenCost's ``configs/default.json`` ("Default prices based on GCP us-central1",
documented on opencost.io, "On-Premises Pricing"): CPU $0.031611/core-h, RAM
$0.004237/GB-h, GPU $0.95/h, storage $0.00005479452/GB-h, internet egress $0.12/GB.
:func:`with_offer` takes the GPU price from a catalog cloud offer instead
(:mod:`mlfleet.infra.tco.offers`), and :func:`normalise_to_node` rescales prices to a
node's price as the spec's Appendix A says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from mlfleet.checks import non_negative, one_of, positive


class Resource(StrEnum):
    """An allocation resource; the value is its column stem in an allocation file."""

    GPU = "gpu"
    CPU = "cpu"
    RAM_GB = "ram_gb"
    STORAGE_GB = "storage_gb"


NETWORK = "network"
"""Key of the usage-billed network egress cost beside the allocation resources."""


@dataclass(frozen=True, kw_only=True)
class Rates:
    """Price of one unit-hour of each allocation resource, and of one GB of egress."""

    gpu_usd_per_h: float
    cpu_usd_per_core_h: float
    ram_usd_per_gb_h: float
    storage_usd_per_gb_h: float
    network_usd_per_gb: float
    source: str = ""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name != "source":
                non_negative(f.name, getattr(self, f.name))

    def hourly_usd(self, resource: Resource) -> float:
        """USD per unit-hour of ``resource``."""
        return {Resource.GPU: self.gpu_usd_per_h, Resource.CPU: self.cpu_usd_per_core_h,
                Resource.RAM_GB: self.ram_usd_per_gb_h,
                Resource.STORAGE_GB: self.storage_usd_per_gb_h}[resource]

    def scaled(self, factor: float) -> Rates:
        """Every hourly price times ``factor`` (egress unchanged: it is not a node price)."""
        return dataclasses.replace(
            self, gpu_usd_per_h=self.gpu_usd_per_h * factor,
            cpu_usd_per_core_h=self.cpu_usd_per_core_h * factor,
            ram_usd_per_gb_h=self.ram_usd_per_gb_h * factor,
            storage_usd_per_gb_h=self.storage_usd_per_gb_h * factor)


OPENCOST_DEFAULTS = Rates(
    gpu_usd_per_h=0.95, cpu_usd_per_core_h=0.031611, ram_usd_per_gb_h=0.004237,
    storage_usd_per_gb_h=0.00005479452, network_usd_per_gb=0.12,
    source="OpenCost configs/default.json (GCP us-central1 list prices), "
           "https://www.opencost.io/docs/configuration/on-prem")
"""OpenCost's default price sheet."""

TIERS = ("on-demand", "reserved-1y", "reserved-3y")


def with_offer(rates: Rates, offer_name: str, *, tier: str = "on-demand") -> Rates:
    """``rates`` with the GPU price of catalog offer ``offer_name`` at ``tier``
    (CatalogError / InputError naming the known offers or tiers)."""
    from mlfleet.errors import InputError
    from mlfleet.infra.tco.offers import offer

    found = offer(offer_name)
    price = {"on-demand": found.on_demand_usd_per_h,
             "reserved-1y": found.reserved_1y_usd_per_h,
             "reserved-3y": found.reserved_3y_usd_per_h}[one_of("tier", tier, TIERS)]
    if price is None:
        raise InputError(f"tier(={tier!r}) has no price in offer {found.name!r}; "
                         "use on-demand")
    return dataclasses.replace(rates, gpu_usd_per_h=price,
                               source=f"GPU: {found.name} {tier} ({found.source}); "
                                      f"others: {rates.source}")


def normalise_to_node(base: Rates, *, node_amounts: Mapping[Resource, float],
                      node_usd_per_h: float) -> Rates:
    """Prices whose ratios are ``base``'s and whose sum over ``node_amounts`` is the node's
    price (OpenCost spec, Appendix A: a $35 node of 1 GPU, 1 CPU and 1 GB priced from
    bases $30/$30/$10 gives $15/$15/$5)."""
    positive("node_usd_per_h", node_usd_per_h)
    at_base = sum(non_negative(f"node {r.value}", node_amounts.get(r, 0.0)) * base.hourly_usd(r)
                  for r in Resource)
    positive("node price at the base rates", at_base)
    return base.scaled(node_usd_per_h / at_base)

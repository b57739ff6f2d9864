"""Capital expenditure of an owned GPU cluster: accelerators, servers, network, facility.

``capex`` is plain arithmetic over its arguments; the defaults are found by the callers
(:mod:`mlfleet.infra.tco.ownership`): accelerator prices from the catalog
(``accelerators.yaml`` ``price.purchase_usd_*``), the host share of a server and the facility
build cost per watt of IT load from ``offer.yaml`` (Cushman & Wakefield 2025: $11.7M per MW
of critical load), the network from the topology chapter's bill of materials
(:func:`network_bill`).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import non_negative, positive_int


@dataclass(frozen=True, kw_only=True)
class Capex:
    """What buying the cluster costs, by item (USD)."""

    accelerators_usd: float
    servers_usd: float
    """Host share of the servers: CPUs, memory, NICs, chassis, local NVMe."""
    network_usd: float
    """Switches, cables and transceivers of the scale-out fabric."""
    facility_usd: float
    """Building, power delivery and cooling, per watt of IT load."""

    @property
    def hardware_usd(self) -> float:
        """Everything bought with the cluster and refreshed with it (not the building)."""
        return self.accelerators_usd + self.servers_usd + self.network_usd

    @property
    def total_usd(self) -> float:
        return self.hardware_usd + self.facility_usd


@dataclass(frozen=True, kw_only=True)
class NetworkBill:
    """The scale-out fabric as TCO needs it."""

    capex_usd: float
    power_w: float
    model: str
    """Which model priced it (the topology chapter's bill, or 'none' for one node)."""


def capex(*, gpus: int, purchase_usd_per_gpu: float, server_host_usd_per_gpu: float,
          network_usd: float, it_power_w: float, build_usd_per_it_w: float) -> Capex:
    """Capex by item: GPUs x price, GPUs x host share, the fabric, IT watts x build cost."""
    positive_int("gpus", gpus)
    for name, value in (("purchase_usd_per_gpu", purchase_usd_per_gpu),
                        ("server_host_usd_per_gpu", server_host_usd_per_gpu),
                        ("network_usd", network_usd), ("it_power_w", it_power_w),
                        ("build_usd_per_it_w", build_usd_per_it_w)):
        non_negative(name, value)
    return Capex(accelerators_usd=gpus * purchase_usd_per_gpu,
                 servers_usd=gpus * server_host_usd_per_gpu, network_usd=network_usd,
                 facility_usd=it_power_w * build_usd_per_it_w)


def network_bill(*, gpus: int, gpus_per_node: int) -> NetworkBill:
    """The scale-out fabric for ``gpus`` GPUs, one NIC per GPU (rail-optimized, as a DGX
    SuperPOD) on a non-blocking fat-tree, priced by ``mlfleet.infra.topology.cost``; a
    single node needs none."""
    positive_int("gpus", gpus)
    positive_int("gpus_per_node", gpus_per_node)
    if gpus <= gpus_per_node:
        return NetworkBill(capex_usd=0.0, power_w=0.0, model="none (one node)")
    from mlfleet.infra.topology.cost import fabric_bill

    bill = fabric_bill(endpoints=gpus, kind="fat-tree")
    return NetworkBill(capex_usd=float(bill.capex_usd), power_w=float(bill.power_w),
                       model="mlfleet.infra.topology.cost.fabric_bill (fat-tree, 1:1)")

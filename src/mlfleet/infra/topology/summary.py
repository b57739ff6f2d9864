"""The fabric of a catalog cluster in a few numbers, for the plan's infrastructure section.

Import-light: closed forms only (:mod:`.cost`, :mod:`.formulas`), no networkx.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mlfleet import catalog
from mlfleet.catalog.types import Cluster
from mlfleet.errors import CatalogError
from mlfleet.infra.topology.cost import fabric_bill
from mlfleet.infra.topology.equipment import switch_for_port_bw
from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.formulas import (
    torus_bisection_bytes_per_s,
    torus_diameter_links,
    torus_links,
)
from mlfleet.infra.topology.shapes import parse_dims


@dataclass(frozen=True, kw_only=True)
class FabricSummary:
    """Topology kind, switches, cables, bisection, hops, capex and power of a cluster's fabric."""

    kind: str
    """'rail-optimized', 'fat-tree', 'torus' or 'none' (one node, no scale-out fabric)."""
    switch: str | None
    """Catalog switch model; None for a torus or a single node."""
    switches: int
    switches_by_tier: dict[str, int] = field(default_factory=dict)
    cables: int
    transceivers: int
    bisection_bw_bytes_per_s: float
    """Per direction."""
    max_hops: int
    """Links on the longest endpoint-to-endpoint shortest path."""
    capex_usd: float | None
    """None where the catalog prices no part (a torus's ICI cables and optical switches)."""
    power_w: float | None
    note: str = ""


def summary_for(*, gpus: int, gpus_per_node: int, rails_per_node: int,
                oversubscription: float, port_bw_bytes_per_s: float,
                topology: str = "fat-tree", torus_shape: str | None = None,
                torus_link_bw_bytes_per_s: float | None = None) -> FabricSummary:
    """The fabric of ``gpus`` GPUs on nodes of ``gpus_per_node`` with ``rails_per_node`` NICs
    of ``port_bw_bytes_per_s``; ``topology`` as the catalog writes it ('rail-optimized
    fat-tree', 'fat-tree', '3d-torus', 'single-node')."""
    nodes = math.ceil(gpus / gpus_per_node)
    if "torus" in topology:
        if torus_shape is None or torus_link_bw_bytes_per_s is None:
            raise TopologyInputError(f"topology {topology!r} needs a torus shape and a per-link "
                                     "bandwidth")
        return _torus(torus_shape, torus_link_bw_bytes_per_s)
    if nodes <= 1 or topology == "single-node":
        return FabricSummary(kind="none", switch=None, switches=0, cables=0, transceivers=0,
                             bisection_bw_bytes_per_s=0.0, max_hops=0, capex_usd=0.0,
                             power_w=0.0, note="one node: no scale-out fabric")
    rail = "rail" in topology and rails_per_node > 1
    sw = switch_for_port_bw(port_bw_bytes_per_s)
    bill = fabric_bill(endpoints=nodes * rails_per_node,
                       kind="rail-optimized" if rail else "fat-tree",
                       oversubscription=oversubscription, switch=sw.name,
                       rails=rails_per_node if rail else 1)
    return FabricSummary(kind=bill.kind, switch=bill.switch, switches=bill.switches,
                         switches_by_tier=bill.switches_by_tier, cables=bill.cables,
                         transceivers=bill.transceivers,
                         bisection_bw_bytes_per_s=bill.bisection_bw_bytes_per_s,
                         max_hops=bill.max_hops, capex_usd=bill.capex_usd, power_w=bill.power_w,
                         note=f"{bill.tiers}-tier Clos of {bill.switch}; indicative prices")


def _torus(shape: str, link_bw: float) -> FabricSummary:
    dims = parse_dims(shape)
    return FabricSummary(kind="torus", switch=None, switches=0, cables=torus_links(dims),
                         transceivers=0,
                         bisection_bw_bytes_per_s=torus_bisection_bytes_per_s(
                             dims, link_bw_bytes_per_s=link_bw),
                         max_hops=torus_diameter_links(dims), capex_usd=None, power_w=None,
                         note=f"{shape} torus with wraparound; ICI links and OCS not priced")


def summary_for_cluster(cluster: Cluster) -> FabricSummary:
    """:func:`summary_for` of a catalog cluster (the torus shape from its catalog entry)."""
    shape, link_bw = None, None
    if "torus" in cluster.topology:
        shape = _catalog_value(cluster.name, "cluster", "torus_shape")
        per_link = _catalog_value(cluster.scaleout.name, "interconnect", "per_link_bw_bytes_per_s")
        link_bw = float(str(per_link)) if per_link is not None else cluster.scaleout.bw_bytes_per_s / 6
    return summary_for(gpus=cluster.gpus, gpus_per_node=cluster.gpus_per_node,
                       rails_per_node=cluster.rails_per_node,
                       oversubscription=cluster.oversubscription,
                       port_bw_bytes_per_s=cluster.scaleout.bw_bytes_per_s,
                       topology=cluster.topology if cluster.nodes > 1 else "single-node",
                       torus_shape=None if shape is None else str(shape),
                       torus_link_bw_bytes_per_s=link_bw)


def _catalog_value(name: str, kind: str, path: str) -> object:
    try:
        return catalog.get(name, kind=kind).get(path)
    except CatalogError:  # a cluster or link built by hand, not from the catalog
        return None

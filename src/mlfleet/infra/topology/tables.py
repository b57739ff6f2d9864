"""The chapter's two trade-off tables, computed: fat-tree vs rail-optimized, and non-blocking
vs oversubscribed (spec: "Large-Scale ML Infrastructure", network topology design).

Both route real collectives over the graphs (:mod:`.collectives`, ECMP ``split``, NCCL
channels = GPUs per node and PXN on) and price the fabrics in closed form (:mod:`.cost`).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.infra.topology.collectives import collective_time
from mlfleet.infra.topology.cost import fabric_bill
from mlfleet.infra.topology.graph import Fabric, GpuNodes, fat_tree, rail_optimized, top_of_rack
from mlfleet.infra.topology.hops import hop_stats
from mlfleet.infra.topology.routing import distances_to


@dataclass(frozen=True, kw_only=True)
class Row:
    """One metric across the compared designs (values in the order of the table's columns)."""

    metric: str
    unit: str
    values: tuple[float, ...]


@dataclass(frozen=True, kw_only=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]


def _one_switch_peers(fabric: Fabric) -> int:
    """GPUs on other nodes that the first GPU reaches through a single switch."""
    src = fabric.endpoints[0]
    dist = distances_to(fabric, src, weight="")
    return sum(1 for e in fabric.endpoints
               if fabric.node_of(e) != fabric.node_of(src) and dist.get(e) == 2)


def _spine_share(fabric: Fabric, loads: dict[tuple[str, str], float]) -> float:
    """Fraction of all link bytes that cross a leaf-spine link."""
    total = sum(loads.values())
    spine = sum(b for (u, v), b in loads.items() if fabric.graph.edges[u, v]["tier"] == "leaf-spine")
    return spine / total if total else 0.0


def _collective_rows(fabrics: list[Fabric], size_bytes: float) -> list[Row]:
    rows = []
    for algorithm in ("ring", "hierarchical", "alltoall"):
        timed = [collective_time(f, algorithm, size_bytes, channels=8, pxn=True) for f in fabrics]
        rows.append(Row(metric=f"{algorithm} time, {size_bytes / 1e9:g} GB", unit="s",
                        values=tuple(t.time_s for t in timed)))
        rows.append(Row(metric=f"{algorithm}: bytes on leaf-spine links", unit="fraction",
                        values=tuple(_spine_share(f, t.loads) for f, t in zip(fabrics, timed,
                                                                              strict=True))))
    return rows


def fat_tree_vs_rail(*, nodes: int = 32, oversubscription: float = 2.0,
                     size_bytes: float = 1e9) -> Table:
    """``nodes`` DGX H100-like servers (8 GPUs, 8 NDR NICs) on 64-port leaves (32 ports
    down): every NIC of a node on one leaf (top-of-rack, 4 nodes per leaf) vs NIC i of 32
    nodes on leaf i (rail-optimized), spines at ``oversubscription``:1 for the routed rows;
    switch counts are for the non-blocking build of the same leaves."""
    spec = GpuNodes(nodes=nodes, oversubscription=oversubscription)
    fabrics = [top_of_rack(spec), rail_optimized(spec)]
    bills = [fabric_bill(endpoints=nodes * 8),
             fabric_bill(endpoints=nodes * 8, kind="rail-optimized", rails=8)]
    rows = [
        Row(metric="switches, non-blocking (closed form)", unit="count",
            values=tuple(float(b.switches) for b in bills)),
        Row(metric="GPUs on other nodes one switch away", unit="count",
            values=tuple(float(_one_switch_peers(f)) for f in fabrics)),
        Row(metric="mean links between GPUs", unit="links",
            values=tuple(hop_stats(f).mean_links for f in fabrics)),
        *_collective_rows(fabrics, size_bytes),
    ]
    return Table(title=f"fat-tree (top-of-rack) vs rail-optimized: {nodes} x 8 H100, NDR, "
                       f"{oversubscription:g}:1 spine", columns=("top-of-rack", "rail-optimized"),
                 rows=tuple(rows))


def _alltoall_slowdown(k: int, oversubscription: float, size_bytes: float) -> float:
    base = collective_time(fat_tree(k, latency_s=0.0), "alltoall", size_bytes).time_s
    thin = collective_time(fat_tree(k, latency_s=0.0, oversubscription=oversubscription),
                           "alltoall", size_bytes).time_s
    return thin / base


def nonblocking_vs_oversubscribed(*, endpoints: int = 4096,
                                  ratios: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0),
                                  k: int = 8, size_bytes: float = 1e8) -> Table:
    """Cost of ``endpoints`` NDR ports at each oversubscription (closed form) beside the
    slowdown of an AlltoAll routed on a k-ary fat-tree with the same ratio."""
    bills = [fabric_bill(endpoints=endpoints, oversubscription=o) for o in ratios]
    flat = bills[0]
    rows = (
        Row(metric="switches", unit="count", values=tuple(float(b.switches) for b in bills)),
        Row(metric="cables", unit="count", values=tuple(float(b.cables) for b in bills)),
        Row(metric="capex", unit="USD", values=tuple(b.capex_usd for b in bills)),
        Row(metric="capex vs non-blocking", unit="fraction",
            values=tuple(b.capex_usd / flat.capex_usd for b in bills)),
        Row(metric="power", unit="W", values=tuple(b.power_w for b in bills)),
        Row(metric="bisection", unit="B/s",
            values=tuple(b.bisection_bw_bytes_per_s for b in bills)),
        Row(metric=f"AlltoAll slowdown, {k}-ary fat-tree (routed)", unit="x",
            values=tuple(_alltoall_slowdown(k, o, size_bytes) for o in ratios)),
    )
    return Table(title=f"non-blocking vs oversubscribed: {endpoints} NDR endpoints, QM9700",
                 columns=tuple(f"{o:g}:1" for o in ratios), rows=rows)


def graph_vs_comm(*, nodes: int = 4, size_bytes: float = 1e9) -> Table:
    """Routed time on a rail-optimized graph of ``nodes`` DGX H100 beside ``mlfleet.comm``'s
    hierarchy on the same ranks (α split over the two links of a one-switch path)."""
    from mlfleet.infra.topology.feed import compare_with_comm

    fabric = rail_optimized(GpuNodes(nodes=nodes, latency_s=0.5e-6, scaleup_latency_s=0.5e-6))
    algorithms = ["ring", "double_binary_tree", "hierarchical"]
    if nodes * 8 <= 256:
        algorithms.append("alltoall")
    rows = tuple(Row(metric=r.algorithm, unit="s", values=(r.graph_s, r.comm_s, r.rel_error))
                 for r in compare_with_comm(fabric, size_bytes, algorithms=algorithms))
    return Table(title=f"graph (routed, ECMP, PXN, 8 channels) vs mlfleet.comm hierarchy: "
                       f"{nodes} x 8 H100, {size_bytes / 1e9:g} GB",
                 columns=("graph s", "comm s", "comm/graph - 1"), rows=rows)

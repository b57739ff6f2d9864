"""JSON-ready reports behind the ``mlfleet infra topology`` commands."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mlfleet.infra.topology.graph import Fabric
from mlfleet.infra.topology.routing import Bottleneck


def build_report(fabric: Fabric) -> dict[str, Any]:
    """Nodes by kind, links by tier, the graph bisection and hop counts of ``fabric``."""
    from mlfleet.infra.topology.bisection import graph_bisection_bytes_per_s
    from mlfleet.infra.topology.hops import hop_stats

    g = fabric.graph
    kinds = Counter(str(k) for _, k in g.nodes(data="kind"))
    tiers = Counter(str(t) for *_, t in g.edges(data="tier"))
    hops = hop_stats(fabric)
    counts: dict[str, float] = {
        "endpoints": len(fabric.endpoints),
        **{f"nodes: {k}": float(v) for k, v in sorted(kinds.items())},
        **{f"links: {t}": float(v) for t, v in sorted(tiers.items())},
        "bisection (max-flow), B/s": graph_bisection_bytes_per_s(fabric),
        "max links from the first endpoint": float(hops.max_links),
        "mean links from the first endpoint": hops.mean_links,
    }
    return {"fabric": fabric.name, "kind": fabric.kind, "fidelity": "model (graph)",
            "counts": counts}


def bisection_report(opts: dict[str, Any]) -> dict[str, Any]:
    """The closed form, and the max-flow on the graph or the fat-tree's symmetry quotient."""
    from mlfleet.infra.topology import bisection, formulas
    from mlfleet.infra.topology.cli_fabric import MAX_GRAPH_ENDPOINTS, build_fabric, endpoint_count
    from mlfleet.infra.topology.cost import check_oversubscription
    from mlfleet.infra.topology.errors import TopologyInputError
    from mlfleet.infra.topology.shapes import parse_dims
    from mlfleet.units import parse_quantity

    # building the graph checks every option; only a fat-tree can be too large to build
    fabric = build_fabric(opts) if endpoint_count(opts) <= MAX_GRAPH_ENDPOINTS else None
    kind, o = opts["kind"], check_oversubscription(opts["oversubscription"])
    bw = parse_quantity(opts["link_bw"], "bytes_per_s")
    if not bw > 0:
        raise TopologyInputError(f"--link-bw(={opts['link_bw']}) must be > 0")
    methods: list[dict[str, Any]] = [{
        "method": "closed form",
        "bisection_bw_bytes_per_s": formulas.closed_form_bisection(opts, link_bw_bytes_per_s=bw)}]
    if kind == "fat-tree":
        q = bisection.fat_tree_quotient(opts["k"], link_bw_bytes_per_s=bw, oversubscription=o)
        methods.append({"method": "max-flow on the symmetry quotient",
                        "bisection_bw_bytes_per_s": bisection.quotient_max_flow_bytes_per_s(
                            q, ("host", True), ("host", False))})
    if fabric is not None:
        methods.append({"method": "max-flow on the graph",
                        "bisection_bw_bytes_per_s": bisection.graph_bisection_bytes_per_s(fabric)})
    name = f"{kind} k={opts['k']}" if kind == "fat-tree" else (
        f"torus {'x'.join(map(str, parse_dims(opts['dims'])))}" if kind == "torus" else kind)
    return {"fabric": f"{name}, {o:g}:1", "fidelity": "model", "methods": methods}


def _strided(fabric: Fabric) -> list[str]:
    """Endpoints dealt round robin over their pods / servers / racks (first coordinate of a
    torus), so consecutive ranks sit in different groups."""
    nodes = fabric.graph.nodes
    groups: dict[Any, list[str]] = {}
    for e in fabric.endpoints:
        a = nodes[e]
        key = a.get("pod", a.get("server", a.get("rack", a.get("coord", (0,))[0])))
        groups.setdefault(key, []).append(e)
    columns = list(groups.values())
    return [col[i] for i in range(max(len(c) for c in columns)) for col in columns
            if i < len(col)]


def _bottleneck(b: Bottleneck | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {"link": f"{b.link[0]}->{b.link[1]}", "tier": b.tier, "load_bytes": b.load_bytes,
            "bw_bytes_per_s": b.bw_bytes_per_s, "time_s": b.time_s}


def route_report(fabric: Fabric, opts: dict[str, Any], size_bytes: float) -> dict[str, Any]:
    """Time, phases, bottleneck and busiest links of a routed collective."""
    from mlfleet.infra.topology.collectives import collective_time
    from mlfleet.infra.topology.errors import TopologyInputError

    if opts["placement"] not in ("node-major", "strided"):
        raise TopologyInputError(f"--placement(={opts['placement']!r}) must be node-major or "
                                 "strided")
    ranks = list(fabric.endpoints) if opts["placement"] == "node-major" else _strided(fabric)
    timed = collective_time(fabric, opts["algorithm"], size_bytes, ranks=ranks,
                            channels=opts["channels"], pxn=opts["pxn"], mode=opts["mode"],
                            seed=opts["seed"])
    busiest = sorted(timed.loads, key=lambda e: -timed.loads[e] / fabric.link_bw(*e))
    links = [{"link": f"{u}->{v}", "tier": str(fabric.graph.edges[u, v]["tier"]),
              "load_bytes": timed.loads[(u, v)],
              "time_s": timed.loads[(u, v)] / fabric.link_bw(u, v)}
             for u, v in busiest[:opts["top"]]]
    return {"fabric": fabric.name, "algorithm": timed.algorithm, "ranks": timed.ranks,
            "placement": opts["placement"], "size_bytes": size_bytes, "fidelity": "model",
            "time_s": timed.time_s, "bottleneck": _bottleneck(timed.bottleneck),
            "phases": [{"name": p.name, "time_s": p.time_s, "bandwidth_s": p.bandwidth_s,
                        "latency_s": p.latency_s, "bottleneck": _bottleneck(p.bottleneck)}
                       for p in timed.phases],
            "busiest_links": links}


def compare_report(table: str, *, nodes: int | None, oversubscription: float,
                   size_bytes: float) -> dict[str, Any]:
    """One of the trade-off tables, or the graph-vs-comm agreement table."""
    from mlfleet.infra.topology import tables

    if table == "rail":
        result = tables.fat_tree_vs_rail(nodes=nodes or 32, oversubscription=oversubscription,
                                         size_bytes=size_bytes)
    elif table == "oversubscription":
        result = tables.nonblocking_vs_oversubscribed(size_bytes=size_bytes)
    else:
        result = tables.graph_vs_comm(nodes=nodes or 4, size_bytes=size_bytes)
    return {"title": result.title, "columns": list(result.columns), "fidelity": "model",
            "rows": [{"metric": r.metric, "unit": r.unit, "values": list(r.values)}
                     for r in result.rows]}

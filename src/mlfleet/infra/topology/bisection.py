"""Bisection bandwidth computed on the graph: max-flow / min-cut between two halves.

The bisection of a split is the maximum flow from one half's endpoints to the other's
(max-flow = min-cut, Ford & Fulkerson 1956), each link carrying its bandwidth in each
direction, hosts and GPUs relaying nothing. The closed forms it checks live in
:mod:`mlfleet.infra.topology.formulas`.

For a large fat-tree the exact max-flow on the full graph is slow (k = 64 has 70 k nodes),
so :func:`fat_tree_quotient` folds the graph by its symmetry: the pod split is invariant
under permuting pods within a half, edge switches within a pod, hosts under an edge switch
and (jointly) aggregation indices with their core groups. Every node class of that group
is an orbit, so averaging any maximum flow over the group gives a symmetric maximum flow,
and a symmetric flow is a flow on the orbit (quotient) graph with summed capacities and
back: the quotient's max-flow equals the full graph's. Tests check the identity on the full
graph for small k and the quotient against the closed form up to k = 64.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import networkx as nx

from mlfleet.infra.topology.cost import check_oversubscription
from mlfleet.infra.topology.graph import Fabric
from mlfleet.infra.topology.shapes import check_k

_SOURCE, _SINK = "__source__", "__sink__"


def _flow_network(fabric: Fabric, side_a: set[str], side_b: set[str]) -> nx.DiGraph:
    """Both directions of every link at its bandwidth; an endpoint only sends (side A) or
    only receives (side B); endpoints outside both sides carry nothing."""
    g, d = fabric.graph, nx.DiGraph()
    for u, v, bw in g.edges(data="bw_bytes_per_s"):
        for a, b in ((u, v), (v, u)):
            if _may_send(g, a, side_a) and _may_receive(g, b, side_b):
                d.add_edge(a, b, capacity=float(bw))
    for a in side_a:
        d.add_edge(_SOURCE, a)  # no capacity attribute: unbounded
    for b in side_b:
        d.add_edge(b, _SINK)
    return d


def _may_send(g: nx.Graph, node: str, side_a: set[str]) -> bool:
    return bool(g.nodes[node]["transit"]) or node in side_a


def _may_receive(g: nx.Graph, node: str, side_b: set[str]) -> bool:
    return bool(g.nodes[node]["transit"]) or node in side_b


def max_flow_bytes_per_s(fabric: Fabric, side_a: Sequence[str], side_b: Sequence[str]) -> float:
    """Maximum bytes/s from the endpoints ``side_a`` to ``side_b`` (exact, networkx max-flow);
    0 when a side is empty (a fabric of one endpoint has nothing to bisect)."""
    if not side_a or not side_b:
        return 0.0
    network = _flow_network(fabric, set(side_a), set(side_b))
    return float(nx.maximum_flow_value(network, _SOURCE, _SINK))


def halves(fabric: Fabric, key: Callable[[str], float] | None = None) -> tuple[list[str],
                                                                              list[str]]:
    """The endpoints split in two equal halves by ``key`` (default: rank order, so pods of a
    fat-tree and whole nodes / scalable units of a GPU fabric stay together)."""
    ordered = sorted(fabric.endpoints, key=key) if key else list(fabric.endpoints)
    mid = len(ordered) // 2
    return ordered[:mid], ordered[mid:]


def torus_halves(fabric: Fabric) -> tuple[list[str], list[str]]:
    """Chips split across the torus's longest dimension (the minimum bisection)."""
    coords = fabric.graph.nodes
    dims = [1 + max(coords[c]["coord"][i] for c in fabric.endpoints)
            for i in range(len(coords[fabric.endpoints[0]]["coord"]))]
    axis = max(range(len(dims)), key=lambda i: (dims[i], -i))
    return halves(fabric, key=lambda c: float(coords[c]["coord"][axis]))


def graph_bisection_bytes_per_s(fabric: Fabric) -> float:
    """Max-flow across the natural split: longest dimension of a torus, else rank halves."""
    a, b = torus_halves(fabric) if fabric.kind in ("torus", "mesh") else halves(fabric)
    return max_flow_bytes_per_s(fabric, a, b)


def fat_tree_orbit(fabric: Fabric, node: str) -> Hashable:
    """The orbit of ``node`` under the symmetry of the pod split: (kind, half) or ('core',)."""
    attrs = fabric.graph.nodes[node]
    if attrs["kind"] == "core":
        return ("core",)
    k = round((4 * len(fabric.endpoints)) ** (1 / 3))
    return (attrs["kind"], attrs["pod"] < k // 2)


def quotient(fabric: Fabric, orbit: Callable[[Fabric, str], Hashable]) -> nx.Graph:
    """The graph of orbits: one node per orbit, link capacities summed (self-loops dropped)."""
    q = nx.Graph()
    for u, v, bw in fabric.graph.edges(data="bw_bytes_per_s"):
        a, b = orbit(fabric, u), orbit(fabric, v)
        if a == b:
            continue
        previous = q.edges[a, b]["bw_bytes_per_s"] if q.has_edge(a, b) else 0.0
        q.add_edge(a, b, bw_bytes_per_s=previous + float(bw))
    return q


def fat_tree_quotient(k: int, *, link_bw_bytes_per_s: float,
                      oversubscription: float = 1.0) -> nx.Graph:
    """The orbit graph of a k-ary fat-tree's pod split, written down without the full graph:
    per half, k³/8 host-edge, k³/8 edge-aggregation (at b/o) and k³/8 aggregation-core links."""
    half_links = check_k(k) ** 3 / 8
    o = check_oversubscription(oversubscription)
    q = nx.Graph()
    for side in (True, False):
        q.add_edge(("host", side), ("edge", side), bw_bytes_per_s=half_links * link_bw_bytes_per_s)
        q.add_edge(("edge", side), ("agg", side),
                   bw_bytes_per_s=half_links * link_bw_bytes_per_s / o)
        q.add_edge(("agg", side), ("core",), bw_bytes_per_s=half_links * link_bw_bytes_per_s)
    return q


def quotient_max_flow_bytes_per_s(q: nx.Graph, source: Hashable, sink: Hashable) -> float:
    """Max-flow on an orbit graph between two orbits (links usable in both directions)."""
    d = nx.DiGraph()
    for u, v, bw in q.edges(data="bw_bytes_per_s"):
        d.add_edge(u, v, capacity=float(bw))
        d.add_edge(v, u, capacity=float(bw))
    return float(nx.maximum_flow_value(d, source, sink))

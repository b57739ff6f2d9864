"""Network topologies as ``networkx`` graphs: typed nodes, links with bandwidth and latency.

Every builder returns a :class:`Fabric`: an undirected graph whose nodes carry ``kind``
(``host``, ``gpu``, ``chip``, ``nvswitch``, ``edge``/``leaf``, ``agg``/``spine``, ``core``)
and ``transit`` (whether traffic may pass through it: switches and TPU chips yes, hosts and
GPUs no), and whose links carry ``bw_bytes_per_s`` (per direction; a link is full duplex),
``latency_s``, ``tier`` (a label for reports) and ``cost`` (the routing metric: 1 for a
scale-up hop, 2 for a network hop, so traffic inside a node stays on NVLink). Parallel
cables between two switches are one link whose bandwidth is their sum.

Builders: :func:`fat_tree` (Al-Fares et al., SIGCOMM'08), :func:`leaf_spine` (two-tier Clos,
one leaf per rack), :func:`rail_optimized` and :func:`top_of_rack` (GPU nodes with an
NVSwitch inside; the DGX SuperPOD puts NIC i of every node of a scalable unit on leaf i,
NVIDIA DGX SuperPOD H100 reference architecture), :func:`torus` (TPU ICI, wraparound in
every dimension, Jouppi et al., ISCA'23) and :func:`join_datacenters` (cross-datacenter links).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx

from mlfleet.checks import positive, positive_int
from mlfleet.infra.topology.cost import check_oversubscription
from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.shapes import check_dims, check_k

NDR_BW = 50e9
"""One NDR 400 Gb/s port, bytes/s per direction (catalog IB-NDR)."""
NVLINK4_BW = 450e9
"""NVLink4 per GPU per direction (catalog NVLink4 / NVSwitch)."""
HOP_LATENCY_S = 1e-6
"""Adapter + one switch + transport (catalog IB-NDR latency_s)."""
SCALEUP_COST, NETWORK_COST = 1, 2


@dataclass(frozen=True)
class Fabric:
    """A topology: the graph, the endpoints in rank order, and what built it."""

    name: str
    kind: str
    graph: nx.Graph
    endpoints: tuple[str, ...]
    """GPUs / hosts / chips in the default (node-major) rank order."""
    distance_cache: dict[tuple[str, str], dict[str, float]] = field(
        default_factory=dict, compare=False, repr=False)
    """Shortest distances to a node by weight, filled by the router (builders never change
    a graph after returning it)."""

    def link_bw(self, u: str, v: str) -> float:
        return float(self.graph.edges[u, v]["bw_bytes_per_s"])

    rail_index: dict[tuple[str, int], str] = field(default_factory=dict, compare=False,
                                                    repr=False)
    """(server, rail) -> GPU, filled on first use by :meth:`gpu_on`."""

    def node_of(self, endpoint: str) -> str:
        """The server an endpoint sits in (itself for a host or chip)."""
        return str(self.graph.nodes[endpoint].get("server", endpoint))

    def gpu_on(self, server: str, rail: int) -> str | None:
        """The GPU of ``server`` whose NIC is on ``rail``, if there is one."""
        if not self.rail_index:
            for e in self.endpoints:
                r = self.graph.nodes[e].get("rail")
                if r is not None:
                    self.rail_index[(self.node_of(e), int(r))] = e
        return self.rail_index.get((server, rail))


def _link(g: nx.Graph, u: str, v: str, *, bw: float, latency_s: float, tier: str,
          cost: int = NETWORK_COST) -> None:
    if g.has_edge(u, v):  # parallel cables: one link of their summed bandwidth
        g.edges[u, v]["bw_bytes_per_s"] += bw
        return
    g.add_edge(u, v, bw_bytes_per_s=bw, latency_s=latency_s, tier=tier, cost=cost)


def _node(g: nx.Graph, name: str, kind: str, **attrs: object) -> str:
    g.add_node(name, kind=kind, transit=kind not in ("host", "gpu"), **attrs)
    return name


def fat_tree(k: int, *, link_bw_bytes_per_s: float = NDR_BW, latency_s: float = HOP_LATENCY_S,
             oversubscription: float = 1.0) -> Fabric:
    """Al-Fares's k-ary fat-tree: k pods of k/2 edge and k/2 aggregation switches, (k/2)² core
    switches, k³/4 hosts. Edge uplinks carry ``link_bw / oversubscription`` (o:1 at the edge)."""
    half = check_k(k) // 2
    o = check_oversubscription(oversubscription)
    positive("link_bw_bytes_per_s", link_bw_bytes_per_s, error=TopologyInputError)
    g, hosts = nx.Graph(), []
    cores = [_node(g, f"core{c}", "core") for c in range(half * half)]
    for p in range(k):
        aggs = [_node(g, f"agg{p}.{a}", "agg", pod=p) for a in range(half)]
        for a, agg in enumerate(aggs):
            for c in range(half):
                _link(g, agg, cores[a * half + c], bw=link_bw_bytes_per_s, latency_s=latency_s,
                      tier="agg-core")
        for e in range(half):
            edge = _node(g, f"edge{p}.{e}", "edge", pod=p)
            for agg in aggs:
                _link(g, edge, agg, bw=link_bw_bytes_per_s / o, latency_s=latency_s,
                      tier="edge-agg")
            for h in range(half):
                hosts.append(_node(g, f"h{p}.{e}.{h}", "host", pod=p))
                _link(g, hosts[-1], edge, bw=link_bw_bytes_per_s, latency_s=latency_s,
                      tier="host-edge")
    return Fabric(name=f"{k}-ary fat-tree, {o:g}:1", kind="fat-tree", graph=g,
                  endpoints=tuple(hosts))


def leaf_spine(*, hosts: int, hosts_per_leaf: int, spines: int,
               link_bw_bytes_per_s: float = NDR_BW, latency_s: float = HOP_LATENCY_S,
               oversubscription: float = 1.0) -> Fabric:
    """Two-tier Clos, one leaf per rack: every leaf joins every spine; a leaf's uplinks carry
    ``hosts_per_leaf · b / oversubscription`` in total, split evenly over the spines."""
    for name, value in (("hosts", hosts), ("hosts_per_leaf", hosts_per_leaf), ("spines", spines)):
        positive_int(name, value, error=TopologyInputError)
    o = check_oversubscription(oversubscription)
    g, out = nx.Graph(), []
    spine_names = [_node(g, f"spine{s}", "spine") for s in range(spines)]
    for leaf_index in range(math.ceil(hosts / hosts_per_leaf)):
        leaf = _node(g, f"leaf{leaf_index}", "leaf", rack=leaf_index)
        for spine in spine_names:
            _link(g, leaf, spine, bw=hosts_per_leaf * link_bw_bytes_per_s / o / spines,
                  latency_s=latency_s, tier="leaf-spine")
        for h in range(min(hosts_per_leaf, hosts - leaf_index * hosts_per_leaf)):
            out.append(_node(g, f"h{leaf_index}.{h}", "host", rack=leaf_index))
            _link(g, out[-1], leaf, bw=link_bw_bytes_per_s, latency_s=latency_s, tier="host-leaf")
    return Fabric(name=f"leaf-spine {hosts} hosts, {o:g}:1", kind="leaf-spine", graph=g,
                  endpoints=tuple(out))


@dataclass(frozen=True, kw_only=True)
class GpuNodes:
    """GPU servers and their NICs: what :func:`rail_optimized` and :func:`top_of_rack` share."""

    nodes: int
    gpus_per_node: int = 8
    leaf_down_ports: int = 32
    """Ports a leaf gives to NICs (the other half of a 64-port switch goes up)."""
    spines: int = 4
    nic_bw_bytes_per_s: float = NDR_BW
    scaleup_bw_bytes_per_s: float = NVLINK4_BW
    latency_s: float = HOP_LATENCY_S
    scaleup_latency_s: float = 1e-6
    oversubscription: float = 1.0

    def __post_init__(self) -> None:
        for name in ("nodes", "gpus_per_node", "leaf_down_ports", "spines"):
            positive_int(name, getattr(self, name), error=TopologyInputError)
        positive("nic_bw_bytes_per_s", self.nic_bw_bytes_per_s, error=TopologyInputError)
        positive("scaleup_bw_bytes_per_s", self.scaleup_bw_bytes_per_s, error=TopologyInputError)
        check_oversubscription(self.oversubscription)


def _gpu_fabric(spec: GpuNodes, *, leaf_of: dict[tuple[int, int], int], kind: str,
                rails: bool) -> Fabric:
    """Servers with an NVSwitch, GPU (n, i) on leaf ``leaf_of[n, i]``, leaves on every spine."""
    g, gpus = nx.Graph(), []
    spine_names = [_node(g, f"spine{s}", "spine") for s in range(spec.spines)]
    for leaf_index in sorted(set(leaf_of.values())):
        leaf = _node(g, f"leaf{leaf_index}", "leaf")
        for spine in spine_names:
            _link(g, leaf, spine, latency_s=spec.latency_s, tier="leaf-spine",
                  bw=spec.leaf_down_ports * spec.nic_bw_bytes_per_s / spec.oversubscription
                  / spec.spines)
    for n in range(spec.nodes):
        nvs = _node(g, f"nvs{n}", "nvswitch", server=f"node{n}")
        for i in range(spec.gpus_per_node):
            rail = {"rail": i} if rails else {}
            gpus.append(_node(g, f"gpu{n}.{i}", "gpu", server=f"node{n}", local=i, **rail))
            _link(g, gpus[-1], nvs, bw=spec.scaleup_bw_bytes_per_s,
                  latency_s=spec.scaleup_latency_s, tier="nvlink", cost=SCALEUP_COST)
            _link(g, gpus[-1], f"leaf{leaf_of[n, i]}", bw=spec.nic_bw_bytes_per_s,
                  latency_s=spec.latency_s, tier="nic-leaf")
    return Fabric(name=f"{kind}: {spec.nodes} x {spec.gpus_per_node} GPUs, "
                       f"{spec.oversubscription:g}:1", kind=kind, graph=g, endpoints=tuple(gpus))


def rail_optimized(spec: GpuNodes) -> Fabric:
    """NIC i of every node of a scalable unit (``leaf_down_ports`` nodes) on that unit's leaf
    i: same-rail traffic in a unit is one switch away, cross-rail traffic crosses a spine
    (unless NCCL's PXN first moves it over NVLink; see :mod:`.collectives`)."""
    g_n, su = spec.gpus_per_node, spec.leaf_down_ports
    leaf_of = {(n, i): (n // su) * g_n + i for n in range(spec.nodes) for i in range(g_n)}
    return _gpu_fabric(spec, leaf_of=leaf_of, kind="rail-optimized", rails=True)


def top_of_rack(spec: GpuNodes) -> Fabric:
    """Every NIC of a node on the same leaf (``leaf_down_ports // gpus_per_node`` nodes per
    leaf): a classic fat-tree of GPU servers."""
    per_leaf = spec.leaf_down_ports // spec.gpus_per_node
    if per_leaf < 1:
        raise TopologyInputError(f"leaf_down_ports(={spec.leaf_down_ports}) must be >= "
                                 f"gpus_per_node(={spec.gpus_per_node}) for a top-of-rack leaf")
    leaf_of = {(n, i): n // per_leaf for n in range(spec.nodes) for i in range(spec.gpus_per_node)}
    return _gpu_fabric(spec, leaf_of=leaf_of, kind="top-of-rack", rails=False)


def torus(dims: tuple[int, ...], *, link_bw_bytes_per_s: float = 45e9,
          latency_s: float = 0.5e-6, wrap: bool = True) -> Fabric:
    """A 1-3D torus of chips (TPU ICI): a link to each neighbour, wraparound when ``wrap``
    (a mesh otherwise). Defaults: TPU v4 ICI, 45 GB/s per link per direction (catalog)."""
    shape = check_dims(dims)
    positive("link_bw_bytes_per_s", link_bw_bytes_per_s, error=TopologyInputError)
    g = nx.Graph()
    coords = [tuple(int(c) for c in idx) for idx in _grid(shape)]
    names = {c: _node(g, "t" + ".".join(map(str, c)), "chip", coord=c) for c in coords}
    for c in coords:
        for axis, size in enumerate(shape):
            if size == 1 or (not wrap and c[axis] == size - 1):
                continue
            nxt = list(c)
            nxt[axis] = (c[axis] + 1) % size
            if not g.has_edge(names[c], names[tuple(nxt)]):
                _link(g, names[c], names[tuple(nxt)], bw=link_bw_bytes_per_s,
                      latency_s=latency_s, tier=f"ici-{'xyz'[axis]}")
    label = "x".join(map(str, shape))
    return Fabric(name=f"{label} {'torus' if wrap else 'mesh'}", kind="torus" if wrap else "mesh",
                  graph=g, endpoints=tuple(names[c] for c in coords))


def _grid(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [()]
    for size in shape:
        out = [(*c, i) for c in out for i in range(size)]
    return out


TOP_KINDS = ("core", "spine", "agg", "leaf", "edge", "chip")


def _top_switches(fabric: Fabric) -> list[str]:
    kinds = nx.get_node_attributes(fabric.graph, "kind")
    top = next(k for k in TOP_KINDS if k in kinds.values())
    return sorted(n for n, k in kinds.items() if k == top)


def join_datacenters(first: Fabric, second: Fabric, *, links: int,
                     link_bw_bytes_per_s: float = NDR_BW, latency_s: float = 1e-3) -> Fabric:
    """Two fabrics (prefixed ``dc0/`` and ``dc1/``) joined by ``links`` long-haul links between
    their top-tier switches, round robin; ``latency_s`` defaults to ~200 km of fiber."""
    positive_int("links", links, error=TopologyInputError)
    g = nx.union(first.graph, second.graph, rename=("dc0/", "dc1/"))
    tops = (_top_switches(first), _top_switches(second))
    for i in range(links):
        _link(g, f"dc0/{tops[0][i % len(tops[0])]}", f"dc1/{tops[1][i % len(tops[1])]}",
              bw=link_bw_bytes_per_s, latency_s=latency_s, tier="dci")
    for node, attrs in g.nodes(data=True):
        if "server" in attrs:
            attrs["server"] = node.split("/")[0] + "/" + attrs["server"]
    endpoints = tuple(f"dc0/{e}" for e in first.endpoints) + tuple(
        f"dc1/{e}" for e in second.endpoints)
    return Fabric(name=f"{first.name} + {second.name} over {links} DCI links", kind="multi-dc",
                  graph=g, endpoints=endpoints)

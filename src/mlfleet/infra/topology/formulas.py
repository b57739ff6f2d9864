"""Closed forms of bisection bandwidth and hop counts (no graph; the plan imports these).

Each is validated against the graph computation in :mod:`mlfleet.infra.topology.bisection`
and :mod:`mlfleet.infra.topology.hops` (tests/infra/topology).

Sources: Al-Fares, Loukissas & Vahdat, "A Scalable, Commodity Data Center Network
Architecture", SIGCOMM 2008 (k-ary fat-tree: k³/4 hosts, 5k²/4 switches, full bisection);
Dally & Towles, *Principles and Practices of Interconnection Networks* (2004), ch. 3
(torus bisection 2·N/k across the longest dimension, ring distances).
"""

from __future__ import annotations

import math
from typing import Any

from mlfleet.infra.topology.cost import check_oversubscription
from mlfleet.infra.topology.shapes import check_dims, check_k


def fat_tree_hosts(k: int) -> int:
    """Hosts of a k-ary fat-tree: k³/4."""
    return check_k(k) ** 3 // 4


def fat_tree_bisection_bytes_per_s(k: int, *, link_bw_bytes_per_s: float,
                                   oversubscription: float = 1.0) -> float:
    """Per-direction bisection of a k-ary fat-tree: (k³/4)·b/2, divided by the oversubscription
    of its edge (leaf) uplinks (Al-Fares et al. 2008 §3: full bisection when o = 1)."""
    o = check_oversubscription(oversubscription)
    return fat_tree_hosts(k) * link_bw_bytes_per_s / 2.0 / o


def fat_tree_diameter_links(k: int) -> int:
    """Links between hosts in different pods: host-edge-aggregation-core and back down = 6."""
    check_k(k)
    return 6


def fat_tree_mean_hops(k: int) -> float:
    """Mean links from one host to every other host: 2 under the same edge switch (k/2 − 1
    hosts), 4 in the same pod ((k/2)(k/2 − 1) hosts), 6 in the other pods."""
    half = check_k(k) // 2
    hosts = fat_tree_hosts(k)
    same_edge, same_pod = half - 1, half * (half - 1)
    other = hosts - 1 - same_edge - same_pod
    return (2 * same_edge + 4 * same_pod + 6 * other) / (hosts - 1)


def torus_links(dims: tuple[int, ...]) -> int:
    """Links of a torus with wraparound: N per dimension of size >= 3, N/2 for size 2."""
    n = math.prod(check_dims(dims))
    return sum(n if d >= 3 else n // 2 if d == 2 else 0 for d in dims)


def torus_bisection_links(dims: tuple[int, ...]) -> int:
    """Links cut by halving the longest dimension: 2·N/k_max (the wraparound doubles the cut
    plane), N/k_max when k_max = 2; 0 for a single chip. Exact halves need an even k_max."""
    n, k_max = math.prod(check_dims(dims)), max(dims)
    if k_max == 1:
        return 0
    return (2 if k_max >= 3 else 1) * n // k_max


def torus_bisection_bytes_per_s(dims: tuple[int, ...], *, link_bw_bytes_per_s: float) -> float:
    """Per-direction bisection bandwidth of a torus: cut links x per-link bandwidth."""
    return torus_bisection_links(dims) * link_bw_bytes_per_s


def torus_diameter_links(dims: tuple[int, ...]) -> int:
    """Σ ⌊k_i/2⌋: the farthest chip is half way round every ring."""
    return sum(d // 2 for d in check_dims(dims))


def ring_mean_distance(k: int) -> float:
    """Mean distance on a ring of k nodes, over all k destinations (self included):
    k/4 for even k, (k² − 1)/(4k) for odd k."""
    return k / 4.0 if k % 2 == 0 else (k * k - 1) / (4.0 * k)


def torus_mean_hops(dims: tuple[int, ...]) -> float:
    """Mean links from a chip to every chip (self included): the ring means add up."""
    return sum(ring_mean_distance(d) for d in check_dims(dims))


def gpu_fabric_bisection_bytes_per_s(*, nodes: int, gpus_per_node: int, leaf_ports: int,
                                     nic_bw_bytes_per_s: float, oversubscription: float,
                                     rail_optimized: bool) -> float:
    """Halves of whole scalable units (rail-optimized: ``leaf_ports`` nodes) or whole leaves
    (top-of-rack: ``leaf_ports // gpus_per_node`` nodes): N·b/2, divided by the spine
    oversubscription when the halves sit under different leaves. Inside a single unit the
    rail leaves alone join the halves."""
    per_group = leaf_ports if rail_optimized else max(1, leaf_ports // gpus_per_node)
    groups = math.ceil(nodes / per_group)
    o = check_oversubscription(oversubscription) if groups > 1 else 1.0
    return nodes * gpus_per_node * nic_bw_bytes_per_s / 2.0 / o


def leaf_spine_bisection_bytes_per_s(*, hosts: int, hosts_per_leaf: int,
                                     link_bw_bytes_per_s: float, oversubscription: float) -> float:
    """Halves of whole racks: hosts·b/2, divided by the oversubscription across leaves."""
    o = check_oversubscription(oversubscription) if hosts > hosts_per_leaf else 1.0
    return hosts * link_bw_bytes_per_s / 2.0 / o


def closed_form_bisection(opts: dict[str, Any], *, link_bw_bytes_per_s: float) -> float:
    """The closed form for the fabric the CLI options describe (see each formula's scope)."""
    from mlfleet.infra.topology.shapes import parse_dims

    kind, o, b = opts["kind"], opts["oversubscription"], link_bw_bytes_per_s
    if kind == "fat-tree":
        return fat_tree_bisection_bytes_per_s(opts["k"], link_bw_bytes_per_s=b, oversubscription=o)
    if kind == "torus":
        return torus_bisection_bytes_per_s(parse_dims(opts["dims"]), link_bw_bytes_per_s=b)
    if kind == "leaf-spine":
        return leaf_spine_bisection_bytes_per_s(hosts=opts["hosts"],
                                                hosts_per_leaf=opts["hosts_per_leaf"],
                                                link_bw_bytes_per_s=b, oversubscription=o)
    return gpu_fabric_bisection_bytes_per_s(
        nodes=opts["nodes"], gpus_per_node=opts["gpus_per_node"], leaf_ports=opts["leaf_ports"],
        nic_bw_bytes_per_s=b, oversubscription=o, rail_optimized=kind == "rail-optimized")

"""The network a collective runs on, reduced to what the cost models need.

A :class:`Topology` is ``ranks`` GPUs placed node-major (rank r on node r // g) on
nodes of g GPUs joined by a scale-up fabric (NVLink/NVSwitch, per-GPU bandwidth
b₁, latency α₁); nodes reach a scale-out network (InfiniBand/RoCE, latency α₂)
through ``rails_per_node`` NICs of ``node_bw / rails`` each; up to
``nodes_per_leaf`` nodes share a non-blocking leaf switch, and leaves meet at a
spine whose uplinks are ``oversubscription`` times thinner than the downlinks.

Effective links per level (per GPU, per direction):

* node:  α₁, b₁ (the accelerator's scale-up bandwidth)
* leaf:  α₂, node_bw / g — every GPU of a node sending at once shares the rails
* spine: α₂, node_bw / (g · oversubscription)

A ring (or pipelined tree) crosses each node boundary once per channel, so with
one channel per rail its boundary hop gets the whole ``node_bw``; algorithms whose
every GPU talks off-node at once (recursive halving/doubling, AlltoAll) get the
per-GPU share. :func:`link_traffic` says what each algorithm puts on each link
class. Sources: NVIDIA DGX SuperPOD reference architecture (rail-optimised
fat-tree, 32-node scalable units), NCCL's one-channel-per-NIC rings (NCCL 2.4 blog,
Jeaugey 2019), Thakur, Rabenseifner & Gropp 2005 (the step schedules).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from mlfleet import catalog
from mlfleet.catalog.types import Cluster
from mlfleet.checks import FloatArray, non_negative_array, one_of
from mlfleet.errors import CatalogError, CommInputError

DEFAULT_NODES_PER_LEAF = 32
"""Nodes under one leaf switch when the catalog does not say: a DGX SuperPOD scalable
unit is 32 nodes (NVIDIA DGX SuperPOD reference architecture, DGX H100)."""

HBM_PASSES_PER_REDUCED_BYTE = 3.0
"""A reduction reads two operands and writes one: γ = 3 / HBM bandwidth."""


@dataclass(frozen=True, kw_only=True)
class Level:
    """One level of the topology as the models see it (for reports)."""

    name: str
    """'node', 'leaf' or 'spine'."""
    link: str
    """The link technology at this level (catalog name)."""
    members: int
    """How many GPUs (node) or nodes (leaf) or leaves (spine) meet at this level."""
    alpha_s: float
    bw_bytes_per_s: float
    """Per-GPU bandwidth per direction when every GPU of a node uses this level at once."""


@dataclass(frozen=True, kw_only=True)
class Topology:
    """Ranks placed on nodes, leaves and a spine, with the α and bandwidth of each link class."""

    name: str
    ranks: int
    """GPUs taking part in the collective."""
    gpus_per_node: int
    """GPUs per node (the last node may hold fewer ranks)."""
    intra_alpha_s: float
    """Latency of the scale-up fabric (NVLink/NVSwitch)."""
    intra_bw_bytes_per_s: float
    """Per-GPU scale-up bandwidth per direction."""
    inter_alpha_s: float = 0.0
    """Latency of the scale-out network (one message, incl. software)."""
    node_bw_bytes_per_s: float = 0.0
    """Scale-out bandwidth of one node per direction (all rails)."""
    rails_per_node: int = 1
    nodes_per_leaf: int = DEFAULT_NODES_PER_LEAF
    oversubscription: float = 1.0
    """Leaf downlink : uplink bandwidth (1 = non-blocking)."""
    gamma_s_per_byte: float = 0.0
    """Reduction arithmetic time per byte."""
    scaleup_link: str = "scale-up"
    scaleout_link: str = "scale-out"

    def __post_init__(self) -> None:
        if self.ranks < 2:
            raise CommInputError(f"ranks(={self.ranks}) must be >= 2")
        if self.gpus_per_node < 1 or self.rails_per_node < 1 or self.nodes_per_leaf < 1:
            raise CommInputError(
                f"gpus_per_node(={self.gpus_per_node}), rails_per_node(={self.rails_per_node}) "
                f"and nodes_per_leaf(={self.nodes_per_leaf}) must be >= 1")
        if self.intra_bw_bytes_per_s <= 0 or self.intra_alpha_s < 0 or self.inter_alpha_s < 0:
            raise CommInputError(f"{self.name}: bandwidths must be > 0 and latencies >= 0")
        if self.nodes > 1 and self.node_bw_bytes_per_s <= 0:
            raise CommInputError(
                f"node_bw_bytes_per_s(={self.node_bw_bytes_per_s}) must be > 0 for "
                f"{self.ranks} ranks on {self.gpus_per_node}-GPU nodes")
        if not self.oversubscription > 0:
            raise CommInputError(f"oversubscription(={self.oversubscription}) must be > 0")

    @property
    def nodes(self) -> int:
        """Nodes holding the ranks (node-major placement)."""
        return math.ceil(self.ranks / self.gpus_per_node)

    @property
    def local_ranks(self) -> int:
        """Ranks per (full) node: min(ranks, gpus_per_node)."""
        return min(self.ranks, self.gpus_per_node)

    @property
    def leaf_nodes(self) -> int:
        """Nodes per leaf actually used."""
        return min(self.nodes, self.nodes_per_leaf)

    @property
    def leaves(self) -> int:
        return math.ceil(self.nodes / self.nodes_per_leaf)

    @property
    def inter_bw_per_gpu(self) -> float:
        """Per-GPU share of the node's scale-out bandwidth when all its GPUs send off-node."""
        return self.node_bw_bytes_per_s / self.local_ranks

    @property
    def spine_bw_per_gpu(self) -> float:
        """Per-GPU share through an oversubscribed spine."""
        return self.inter_bw_per_gpu / self.oversubscription

    @property
    def nic_bw_bytes_per_s(self) -> float:
        return self.node_bw_bytes_per_s / self.rails_per_node


def nodes_per_leaf_of(cluster: Cluster) -> int:
    """Nodes per leaf: the catalog's ``nodes_per_scalable_unit`` for this cluster if it has
    one, else :data:`DEFAULT_NODES_PER_LEAF`."""
    try:
        value = catalog.get(cluster.name, kind="cluster").get("nodes_per_scalable_unit")
    except CatalogError:  # a cluster built by hand, not from the catalog
        value = None
    return int(value) if value else DEFAULT_NODES_PER_LEAF


def from_cluster(cluster: Cluster, *, ranks: int, nodes_per_leaf: int | None = None) -> Topology:
    """The topology of ``ranks`` GPUs of ``cluster``; CommInputError unless 2 <= ranks <= GPUs.

    Per-GPU scale-up bandwidth is the accelerator's when the catalog gives it, else the
    scale-up link's; γ is 3 bytes of HBM traffic per reduced byte; ``nodes_per_leaf``
    defaults to :func:`nodes_per_leaf_of`.
    """
    if not 2 <= ranks <= cluster.gpus:
        raise CommInputError(
            f"ranks(={ranks}) must be between 2 and the {cluster.gpus} GPUs of {cluster.name}")
    if nodes_per_leaf is None:
        nodes_per_leaf = nodes_per_leaf_of(cluster)
    chip = cluster.accelerator
    intra_bw = chip.scaleup_bw_bytes_per_s or cluster.scaleup.bw_bytes_per_s
    return Topology(
        name=cluster.name, ranks=ranks, gpus_per_node=cluster.gpus_per_node,
        intra_alpha_s=cluster.scaleup.latency_s, intra_bw_bytes_per_s=intra_bw,
        inter_alpha_s=cluster.scaleout.latency_s,
        node_bw_bytes_per_s=cluster.node_scaleout_bw_bytes_per_s,
        rails_per_node=cluster.rails_per_node, nodes_per_leaf=nodes_per_leaf,
        oversubscription=cluster.oversubscription,
        gamma_s_per_byte=HBM_PASSES_PER_REDUCED_BYTE / chip.hbm_bw_bytes_per_s,
        scaleup_link=cluster.scaleup.name, scaleout_link=cluster.scaleout.name)


def flat(*, ranks: int, alpha_s: float, bw_bytes_per_s: float,
         gamma_s_per_byte: float = 0.0) -> Topology:
    """Every rank on one switch with the same α and B: the single-link-class α-β model."""
    return Topology(name=f"flat(α={alpha_s:g}s, B={bw_bytes_per_s:g}B/s)", ranks=ranks,
                    gpus_per_node=ranks, intra_alpha_s=alpha_s,
                    intra_bw_bytes_per_s=bw_bytes_per_s, gamma_s_per_byte=gamma_s_per_byte,
                    scaleup_link="link")


def levels(topo: Topology) -> list[Level]:
    """The levels a collective over ``topo`` spans, innermost first."""
    out = [Level(name="node", link=topo.scaleup_link, members=topo.local_ranks,
                 alpha_s=topo.intra_alpha_s, bw_bytes_per_s=topo.intra_bw_bytes_per_s)]
    if topo.nodes > 1:
        out.append(Level(name="leaf", link=topo.scaleout_link, members=topo.leaf_nodes,
                         alpha_s=topo.inter_alpha_s, bw_bytes_per_s=topo.inter_bw_per_gpu))
    if topo.leaves > 1:
        out.append(Level(name="spine", link=topo.scaleout_link, members=topo.leaves,
                         alpha_s=topo.inter_alpha_s, bw_bytes_per_s=topo.spine_bw_per_gpu))
    return out


def level_of_distance(topo: Topology, distance: int) -> str:
    """Which level a message between ranks ``distance`` apart crosses (node-major, aligned)."""
    if distance < topo.gpus_per_node:
        return "node"
    return "leaf" if distance < topo.gpus_per_node * topo.nodes_per_leaf else "spine"


def step_link(topo: Topology, distance: int, *, all_active: bool = True) -> tuple[float, float]:
    """(α, per-GPU bandwidth) of a step between ranks ``distance`` apart.

    ``all_active``: every GPU of a node sends off-node in this step (recursive
    halving/doubling), so they share the rails; otherwise one GPU drives one NIC.
    """
    level = level_of_distance(topo, distance)
    if level == "node":
        return topo.intra_alpha_s, topo.intra_bw_bytes_per_s
    if not all_active:
        return topo.inter_alpha_s, min(topo.intra_bw_bytes_per_s, topo.nic_bw_bytes_per_s)
    bw = topo.inter_bw_per_gpu if level == "leaf" else topo.spine_bw_per_gpu
    return topo.inter_alpha_s, bw


def ring_link(topo: Topology) -> tuple[float, float]:
    """(α, B) of a ring or pipelined tree over all ranks: the slowest hop of each step.

    Off-node, one channel per rail makes the boundary hop use the whole node_bw; the
    few hops that cross the spine (one per leaf) do not load the uplinks.
    """
    if topo.nodes == 1:
        return topo.intra_alpha_s, topo.intra_bw_bytes_per_s
    return (max(topo.intra_alpha_s, topo.inter_alpha_s),
            min(topo.intra_bw_bytes_per_s, topo.node_bw_bytes_per_s))


# --- step schedules: (rank distance, bytes as a fraction of S, reduces, all GPUs active) ---

Step = tuple[int, float, bool, bool]


def step_schedule(algorithm: str, n_ranks: int) -> list[Step]:
    """The rounds of a logarithmic AllReduce, as the busiest rank sees them (Thakur et al. 2005).

    ``tree``: binomial reduce then broadcast (distances 1, 2, 4, ... and back, whole
    vector, one sender per pair); ``recursive_doubling``: lg p' exchanges of the whole
    vector; ``rabenseifner``: recursive halving (distance p'/2 first, S/2 bytes) then
    recursive doubling. Non-powers of two fold the surplus ranks in and out at distance 1.
    """
    one_of("algorithm", algorithm, ("tree", "recursive_doubling", "rabenseifner"),
           error=CommInputError)
    if algorithm == "tree":
        up = [(2**k, 1.0, True, False) for k in range(math.ceil(math.log2(n_ranks) - 1e-12))]
        return up + [(d, f, False, a) for d, f, _, a in reversed(up)]
    p2 = 2 ** int(math.floor(math.log2(n_ranks) + 1e-12))
    rounds = int(math.log2(p2))
    if algorithm == "recursive_doubling":
        core = [(2**k, 1.0, True, True) for k in range(rounds)]
    else:
        halving = [(p2 // 2 ** (k + 1), 0.5 ** (k + 1), True, True) for k in range(rounds)]
        core = halving + [(d, f, False, a) for d, f, _, a in reversed(halving)]
    if n_ranks == p2:
        return core
    return [(1, 1.0, True, True), *core, (1, 1.0, False, True)]


def schedule_time(topo: Topology, schedule: list[Step], size_bytes: ArrayLike) -> FloatArray:
    """Σ over rounds of α(level) + bytes / bw(level) + γ·bytes for reducing rounds."""
    size = non_negative_array("size_bytes", size_bytes, error=CommInputError)
    total = np.zeros_like(size)
    for distance, fraction, reduces, all_active in schedule:
        alpha, bw = step_link(topo, distance, all_active=all_active)
        volume = fraction * size
        total = total + alpha + volume / bw + (volume * topo.gamma_s_per_byte if reduces else 0.0)
    return total


@dataclass(frozen=True, kw_only=True)
class LinkTraffic:
    """Bytes one collective puts on each link class (sent; received is the same)."""

    scaleup_bytes_per_gpu: FloatArray
    """Over NVLink/NVSwitch, per GPU."""
    scaleout_bytes_per_nic: FloatArray
    """Over the scale-out network, per NIC (rail)."""
    spine_bytes_per_node: FloatArray
    """Leaving the leaf switch through the spine, per node (average over nodes)."""


def link_traffic(algorithm: str, topo: Topology, size_bytes: ArrayLike) -> LinkTraffic:
    """What AllReduce ``algorithm`` (or ``alltoall``) of ``size_bytes`` puts on each link class.

    For tree-like schedules it is the busiest GPU's traffic; ``size_bytes`` follows
    nccl-tests (the per-rank buffer; for AlltoAll the total each rank sends).
    """
    known = ("ring", "double_binary_tree", "hierarchical", "hierarchical3", "tree",
             "recursive_doubling", "rabenseifner", "alltoall")
    one_of("algorithm", algorithm, known, error=CommInputError)
    size = non_negative_array("size_bytes", size_bytes, error=CommInputError)
    if algorithm in ("tree", "recursive_doubling", "rabenseifner"):
        return _schedule_traffic(topo, step_schedule(algorithm, topo.ranks), size)
    return _TRAFFIC[algorithm](topo, size)


def _traffic(up: FloatArray, nic: FloatArray, spine: FloatArray) -> LinkTraffic:
    return LinkTraffic(scaleup_bytes_per_gpu=np.asarray(up, dtype=np.float64),
                       scaleout_bytes_per_nic=np.asarray(nic, dtype=np.float64),
                       spine_bytes_per_node=np.asarray(spine, dtype=np.float64))


def _schedule_traffic(topo: Topology, schedule: list[Step], size: FloatArray) -> LinkTraffic:
    up, nic, spine = np.zeros_like(size), np.zeros_like(size), np.zeros_like(size)
    g, rails = topo.local_ranks, topo.rails_per_node
    for distance, fraction, _, all_active in schedule:
        volume = fraction * size
        level = level_of_distance(topo, distance)
        if level == "node":
            up = up + volume
            continue
        senders = g if all_active else 1  # all GPUs share the rails, or one GPU drives one NIC
        nic = nic + volume * (g / rails if all_active else 1.0)
        if level == "spine":
            spine = spine + volume * senders
    return _traffic(up, nic, spine)


def _ring_like(topo: Topology, volume: FloatArray) -> LinkTraffic:
    """A ring of per-rank volume V: each node sends V across its boundary, split over rails."""
    if topo.nodes == 1:
        return _traffic(volume, 0.0 * volume, 0.0 * volume)
    g = topo.local_ranks
    crossing_share = topo.leaves / topo.nodes if topo.leaves > 1 else 0.0
    return _traffic(volume * (g - 1) / g, volume / topo.rails_per_node, volume * crossing_share)


def _ring_traffic(topo: Topology, size: FloatArray) -> LinkTraffic:
    return _ring_like(topo, 2.0 * (topo.ranks - 1) / topo.ranks * size)


def _dbt_traffic(topo: Topology, size: FloatArray) -> LinkTraffic:
    return _ring_like(topo, 2.0 * size)  # every rank sends S up and S down over both trees


def _hierarchical_traffic(topo: Topology, size: FloatArray, *, three_level: bool) -> LinkTraffic:
    g, big_n = topo.local_ranks, topo.nodes
    up = 2.0 * (g - 1) / g * size
    if big_n == 1:
        return _traffic(up, 0.0 * size, 0.0 * size)
    if three_level and topo.leaves > 1:
        r, racks = topo.leaf_nodes, topo.leaves
        per_gpu = 2.0 * (r - 1) / r * size / g + 2.0 * (racks - 1) / racks * size / (g * r)
        spine = 2.0 * (racks - 1) / racks * size / r
    else:
        per_gpu = 2.0 * (big_n - 1) / big_n * size / g
        spine = per_gpu * g * (topo.leaves / big_n if topo.leaves > 1 else 0.0)
    return _traffic(up, per_gpu * g / topo.rails_per_node, spine)


def _alltoall_traffic(topo: Topology, size: FloatArray) -> LinkTraffic:
    n, g = topo.ranks, topo.local_ranks
    off_node = (n - g) / n * size
    off_leaf = max(n - g * topo.leaf_nodes, 0) / n * size
    return _traffic((g - 1) / n * size, off_node * g / topo.rails_per_node, off_leaf * g)


_TRAFFIC = {
    "ring": _ring_traffic,
    "double_binary_tree": _dbt_traffic,
    "hierarchical": lambda t, s: _hierarchical_traffic(t, s, three_level=False),
    "hierarchical3": lambda t, s: _hierarchical_traffic(t, s, three_level=True),
    "alltoall": _alltoall_traffic,
}

"""The flows of a collective on a placement of ranks, routed over a fabric: per-link load,
the bottleneck link, and the time.

A collective is a list of :class:`Phase`\\ s. A phase repeats ``rounds`` times one round of
concurrent flows, and pays ``latency_steps`` sequential message latencies. Its time is
``rounds · max_link(load of one round / bandwidth) + latency_steps · max path latency``:
the flow-level (fluid) model, where every link drains at its bandwidth and the slowest
link of a round sets the round's length. Schedules (Thakur, Rabenseifner & Gropp 2005;
NCCL's rings and double binary trees, Jeaugey 2019):

* ring AllReduce: 2(p−1) rounds, rank i sends S/(p·c) to rank i+1 on each of ``channels``
  c rings (channel j rotates each node's ranks by j, so its node crossing uses rail j);
* tree AllReduce: pipelined reduce up and broadcast down a binary tree over the ranks (heap
  order), S per tree edge in each direction, 2·depth latencies;
* double binary tree (NCCL): per channel j, a chain inside each node headed by its j-th
  rank, and two trees of S/(2c) over the nodes' heads, the second over the nodes in
  reverse, so a node inner in one tree is a leaf in the other;
* hierarchical AllReduce: ring ReduceScatter inside each node (g−1 rounds of S/g), a ring
  AllReduce of S/g across nodes among ranks of equal local index (2(n−1) rounds of
  S/(g·n)), ring AllGather inside the node (g−1 rounds of S/g);
* AlltoAll: every rank sends S/p to every other rank at once, p−1 latencies.

``pxn`` applies NCCL's PXN (2.12): a flow to another node whose destination sits on another
rail first moves over NVLink to the source-node GPU on the destination's rail.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mlfleet.checks import one_of, positive_int
from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.graph import Fabric
from mlfleet.infra.topology.routing import (
    Bottleneck,
    Flow,
    Link,
    bottleneck,
    ecmp_loads,
    path_latency_s,
)

ALGORITHMS = ("ring", "tree", "double_binary_tree", "hierarchical", "alltoall")


@dataclass(frozen=True, kw_only=True)
class Phase:
    """``rounds`` repetitions of one round of concurrent ``flows``."""

    name: str
    flows: tuple[Flow, ...]
    rounds: int
    latency_steps: int


def _ring_flows(ranks: Sequence[str], chunk_bytes: float) -> list[Flow]:
    p = len(ranks)
    return [Flow(src=ranks[i], dst=ranks[(i + 1) % p], size_bytes=chunk_bytes) for i in range(p)]


def _node_blocks(fabric: Fabric, ranks: Sequence[str]) -> list[list[str]]:
    """Consecutive ranks on the same server, in order."""
    blocks: list[list[str]] = []
    for r in ranks:
        if blocks and fabric.node_of(blocks[-1][-1]) == fabric.node_of(r):
            blocks[-1].append(r)
        else:
            blocks.append([r])
    return blocks


def ring_allreduce(fabric: Fabric, ranks: Sequence[str], size_bytes: float, *,
                   channels: int = 1) -> list[Phase]:
    """``channels`` concurrent rings of S/channels, each rotating every node's ranks."""
    positive_int("channels", channels, error=TopologyInputError)
    p = len(ranks)
    flows: list[Flow] = []
    for j in range(channels):
        order = [r for block in _node_blocks(fabric, ranks)
                 for r in block[j % len(block):] + block[:j % len(block)]]
        flows += _ring_flows(order, size_bytes / (p * channels))
    return [Phase(name="ring", flows=tuple(flows), rounds=2 * (p - 1), latency_steps=2 * (p - 1))]


def _tree_flows(ranks: Sequence[str], size_bytes: float) -> list[Flow]:
    flows = []
    for i in range(1, len(ranks)):
        parent = ranks[(i - 1) // 2]
        flows += [Flow(src=ranks[i], dst=parent, size_bytes=size_bytes),
                  Flow(src=parent, dst=ranks[i], size_bytes=size_bytes)]
    return flows


def tree_allreduce(fabric: Fabric, ranks: Sequence[str], size_bytes: float) -> list[Phase]:
    """One pipelined binary tree (heap order): S up and S down every tree edge."""
    depth = math.ceil(math.log2(len(ranks) + 1)) - 1
    return [Phase(name="tree", flows=tuple(_tree_flows(ranks, size_bytes)), rounds=1,
                  latency_steps=2 * depth)]


def _chain_flows(chain: Sequence[str], size_bytes: float) -> list[Flow]:
    """Reduce along a chain towards its head and broadcast back: ``size_bytes`` each way."""
    return [f for a, b in zip(chain[1:], chain[:-1], strict=False)
            for f in (Flow(src=a, dst=b, size_bytes=size_bytes),
                      Flow(src=b, dst=a, size_bytes=size_bytes))]


def double_binary_tree_allreduce(fabric: Fabric, ranks: Sequence[str], size_bytes: float, *,
                                 channels: int = 1) -> list[Phase]:
    """NCCL's double binary tree: per channel j, a chain inside each node headed by its j-th
    rank, and two binary trees of S/(2c) over the nodes' heads (heap order, then reversed,
    so a node inner in one is a leaf in the other); pipelined, so one phase."""
    positive_int("channels", channels, error=TopologyInputError)
    blocks = _node_blocks(fabric, ranks)
    chunk = size_bytes / (2 * channels)
    flows: list[Flow] = []
    for j in range(channels):
        chains = [b[j % len(b):] + b[:j % len(b)] for b in blocks]
        heads = [c[0] for c in chains]
        for order in (heads, heads[::-1]):
            flows += _tree_flows(order, chunk)
            flows += [f for c in chains for f in _chain_flows(c, chunk)]
    depth = math.ceil(math.log2(len(blocks) + 1)) - 1 + max(len(b) for b in blocks) - 1
    return [Phase(name="double_binary_tree", flows=tuple(flows), rounds=1,
                  latency_steps=2 * depth)]


def hierarchical_allreduce(fabric: Fabric, ranks: Sequence[str],
                           size_bytes: float) -> list[Phase]:
    """ReduceScatter in each node, AllReduce across nodes per local index, AllGather."""
    blocks = _node_blocks(fabric, ranks)
    g, n = len(blocks[0]), len(blocks)
    if any(len(b) != g for b in blocks):
        raise TopologyInputError("hierarchical AllReduce needs the same number of ranks on "
                                 f"every node; got {[len(b) for b in blocks]}")
    local = [f for b in blocks if g > 1 for f in _ring_flows(b, size_bytes / g)]
    across = [f for j in range(g) if n > 1
              for f in _ring_flows([b[j] for b in blocks], size_bytes / (g * n))]
    return [Phase(name="intra reduce-scatter", flows=tuple(local), rounds=g - 1,
                  latency_steps=g - 1),
            Phase(name="inter allreduce", flows=tuple(across), rounds=2 * (n - 1),
                  latency_steps=2 * (n - 1)),
            Phase(name="intra all-gather", flows=tuple(local), rounds=g - 1, latency_steps=g - 1)]


def alltoall(fabric: Fabric, ranks: Sequence[str], size_bytes: float) -> list[Phase]:
    """Every rank sends S/p to every other rank, all at once."""
    p = len(ranks)
    flows = [Flow(src=a, dst=b, size_bytes=size_bytes / p) for a in ranks for b in ranks if a != b]
    return [Phase(name="alltoall", flows=tuple(flows), rounds=1, latency_steps=p - 1)]


SCHEDULES: dict[str, Callable[..., list[Phase]]] = {
    "ring": ring_allreduce, "tree": tree_allreduce,
    "double_binary_tree": double_binary_tree_allreduce,
    "hierarchical": hierarchical_allreduce, "alltoall": alltoall,
}


def pxn_legs(fabric: Fabric, flow: Flow) -> list[Flow]:
    """NCCL PXN: a flow to another node whose destination sits on another rail first moves
    over NVLink to the source-node GPU on the destination's rail (when that GPU exists),
    then crosses on that rail; otherwise the flow itself."""
    nodes = fabric.graph.nodes
    rail = nodes[flow.dst].get("rail")
    if rail is None or nodes[flow.src].get("rail") == rail \
            or fabric.node_of(flow.src) == fabric.node_of(flow.dst):
        return [flow]
    relay = fabric.gpu_on(fabric.node_of(flow.src), int(rail))
    if relay is None:
        return [flow]
    return [Flow(src=flow.src, dst=relay, size_bytes=flow.size_bytes),
            Flow(src=relay, dst=flow.dst, size_bytes=flow.size_bytes)]


@dataclass(frozen=True, kw_only=True)
class PhaseTime:
    name: str
    time_s: float
    bandwidth_s: float
    latency_s: float
    bottleneck: Bottleneck | None


@dataclass(frozen=True, kw_only=True)
class CollectiveTime:
    """A collective's time on a fabric, and the link that limits it."""

    algorithm: str
    fabric: str
    ranks: int
    size_bytes: float
    time_s: float
    phases: tuple[PhaseTime, ...]
    bottleneck: Bottleneck | None
    """The limiting link of the phase with the longest bandwidth term."""
    loads: dict[Link, float]
    """Bytes per directed link over the whole collective."""


def _phase_time(fabric: Fabric, phase: Phase, *, pxn: bool, mode: str,
                seed: int) -> tuple[PhaseTime, dict[Link, float]]:
    legs = [pxn_legs(fabric, f) if pxn else [f] for f in phase.flows]
    loads = ecmp_loads(fabric, [leg for flow in legs for leg in flow], mode=mode, seed=seed)
    per_round = bottleneck(fabric, loads)
    worst = None if per_round is None else replace(
        per_round, load_bytes=phase.rounds * per_round.load_bytes)  # the whole phase's bytes
    bandwidth = worst.time_s if worst else 0.0
    hop = max((sum(path_latency_s(fabric, leg.src, leg.dst) for leg in flow) for flow in legs),
              default=0.0)
    latency = phase.latency_steps * hop
    total = {link: phase.rounds * b for link, b in loads.items()}
    return PhaseTime(name=phase.name, time_s=bandwidth + latency, bandwidth_s=bandwidth,
                     latency_s=latency, bottleneck=worst), total


def check_placement(fabric: Fabric, ranks: Sequence[str] | None) -> list[str]:
    """The ranks' endpoints (default: all, node-major); TopologyInputError for a rank on a
    node that is not an endpoint, a repeated endpoint, or fewer than two ranks."""
    out = list(fabric.endpoints if ranks is None else ranks)
    ends = set(fabric.endpoints)
    bad = [r for r in out if r not in ends]
    if bad or len(set(out)) != len(out) or len(out) < 2:
        raise TopologyInputError(f"placement must name >= 2 distinct endpoints of {fabric.name}"
                                 f"{'; not endpoints: ' + ', '.join(bad[:3]) if bad else ''}")
    return out


def collective_time(fabric: Fabric, algorithm: str, size_bytes: float, *,
                    ranks: Sequence[str] | None = None, channels: int = 1, pxn: bool = False,
                    mode: str = "split", seed: int = 0) -> CollectiveTime:
    """Route ``algorithm`` of ``size_bytes`` (per-rank buffer, nccl-tests convention; for
    AlltoAll what each rank sends in total) on ``ranks`` over ``fabric``."""
    one_of("algorithm", algorithm, ALGORITHMS, error=TopologyInputError)
    if not size_bytes >= 0:
        raise TopologyInputError(f"size_bytes(={size_bytes!r}) must be >= 0")
    placed = check_placement(fabric, ranks)
    kwargs = {"channels": channels} if algorithm in ("ring", "double_binary_tree") else {}
    phases = SCHEDULES[algorithm](fabric, placed, size_bytes, **kwargs)
    times: list[PhaseTime] = []
    loads: dict[Link, float] = defaultdict(float)
    for phase in phases:
        timed, total = _phase_time(fabric, phase, pxn=pxn, mode=mode, seed=seed)
        times.append(timed)
        for link, b in total.items():
            loads[link] += b
    slowest = max(times, key=lambda t: t.bandwidth_s)
    return CollectiveTime(algorithm=algorithm, fabric=fabric.name, ranks=len(placed),
                          size_bytes=float(size_bytes), time_s=sum(t.time_s for t in times),
                          phases=tuple(times), bottleneck=slowest.bottleneck, loads=dict(loads))

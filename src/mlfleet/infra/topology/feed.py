"""The seam into :mod:`mlfleet.comm`: collective times routed on a graph, in the shape of
``mlfleet.comm.select.allreduce_times``, and a comm :class:`~mlfleet.comm.topology.Topology`
whose levels come from the graph.

* :func:`allreduce_times_on_graph` — seconds per algorithm, vectorised over sizes. A routed
  collective's time is affine in the size (bandwidth terms scale, latencies do not), so
  one routing at 1 byte gives the slope and the intercept for every size.
* :func:`comm_topology_from_graph` — a comm Topology for ``mlfleet comm`` selection, with
  the oversubscription it *sees*: the bottleneck of a routed bisection permutation (every
  rank of one half sends to its mirror in the other) divided by the NIC's own time.
* :func:`compare_with_comm` — the graph and the comm hierarchy side by side on the same ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray, non_negative_array
from mlfleet.comm import select
from mlfleet.comm.topology import Topology
from mlfleet.infra.topology.collectives import ALGORITHMS, check_placement, collective_time
from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.graph import Fabric
from mlfleet.infra.topology.routing import Flow, bottleneck, ecmp_loads

GRAPH_ALLREDUCES = ("ring", "double_binary_tree", "tree", "hierarchical")
"""AllReduce schedules routed on graphs (names as in ``mlfleet.comm.select``)."""


def _affine(fabric: Fabric, algorithm: str, ranks: Sequence[str], *, channels: int,
            pxn: bool) -> tuple[float, float]:
    """(seconds per byte, seconds at zero bytes) of ``algorithm`` on ``ranks``."""
    one = collective_time(fabric, algorithm, 1.0, ranks=ranks, channels=channels, pxn=pxn)
    latency = sum(p.latency_s for p in one.phases)
    return sum(p.bandwidth_s for p in one.phases), latency


def allreduce_times_on_graph(fabric: Fabric, size_bytes: ArrayLike, *,
                             ranks: Sequence[str] | None = None,
                             algorithms: Sequence[str] = GRAPH_ALLREDUCES,
                             channels: int | None = None,
                             pxn: bool = True) -> dict[str, FloatArray]:
    """Routed seconds of each algorithm at each size; ``channels`` defaults to the GPUs per
    node (one ring per rail, as NCCL opens one channel per NIC)."""
    for name in algorithms:
        if name not in GRAPH_ALLREDUCES:
            raise TopologyInputError(f"algorithm(={name!r}) must be one of "
                                     f"{', '.join(GRAPH_ALLREDUCES)}")
    return collective_times_on_graph(fabric, size_bytes, ranks=ranks, algorithms=algorithms,
                                     channels=channels, pxn=pxn)


def collective_times_on_graph(fabric: Fabric, size_bytes: ArrayLike, *,
                              ranks: Sequence[str] | None = None,
                              algorithms: Sequence[str] = ALGORITHMS,
                              channels: int | None = None,
                              pxn: bool = True) -> dict[str, FloatArray]:
    """:func:`allreduce_times_on_graph` for any routed collective, AlltoAll included."""
    size = non_negative_array("size_bytes", size_bytes, error=TopologyInputError)
    placed = check_placement(fabric, ranks)
    per_node = channels or _ranks_per_node(fabric, placed)
    out: dict[str, FloatArray] = {}
    for name in algorithms:
        if name not in ALGORITHMS:
            raise TopologyInputError(f"algorithm(={name!r}) must be one of {', '.join(ALGORITHMS)}")
        slope, intercept = _affine(fabric, name, placed, channels=per_node, pxn=pxn)
        out[name] = np.asarray(slope * size + intercept, dtype=np.float64)
    return out


def _ranks_per_node(fabric: Fabric, ranks: Sequence[str]) -> int:
    first = fabric.node_of(ranks[0])
    return sum(1 for r in ranks if fabric.node_of(r) == first)


def seen_oversubscription(fabric: Fabric, ranks: Sequence[str]) -> float:
    """Bottleneck time / NIC time of a routed bisection permutation (rank i of the first half
    to rank i of the second): 1 on a non-blocking fabric, o behind o:1 uplinks."""
    half = len(ranks) // 2
    flows = [Flow(src=a, dst=b, size_bytes=1.0) for a, b in zip(ranks[:half], ranks[half:],
                                                                 strict=False)]
    flows += [Flow(src=b, dst=a, size_bytes=1.0) for a, b in zip(ranks[:half], ranks[half:],
                                                                  strict=False)]
    loads = ecmp_loads(fabric, flows)
    worst = bottleneck(fabric, loads)
    nic = min(fabric.link_bw(*e) for e in fabric.graph.edges(ranks[0]))
    return max(1.0, worst.time_s * nic) if worst else 1.0


def comm_topology_from_graph(fabric: Fabric, *, ranks: Sequence[str] | None = None,
                             gamma_s_per_byte: float = 0.0) -> Topology:
    """A comm Topology of ``ranks`` on ``fabric``: per-GPU scale-up and NIC bandwidths and
    latencies from the GPU's links, nodes per leaf from the wiring, the oversubscription
    from :func:`seen_oversubscription`."""
    placed = check_placement(fabric, ranks)
    g = fabric.graph
    links = {g.edges[placed[0], v]["tier"]: g.edges[placed[0], v] for v in g[placed[0]]}
    up = links.get("nvlink")
    nic = next(v for t, v in links.items() if t != "nvlink")
    per_node = _ranks_per_node(fabric, placed)
    leaf = next(v for v in g[placed[0]] if g.nodes[v]["kind"] in ("leaf", "edge"))
    servers = {fabric.node_of(h) for h in g[leaf] if not g.nodes[h]["transit"]}
    return Topology(
        name=f"{fabric.name} (from the graph)", ranks=len(placed), gpus_per_node=per_node,
        intra_alpha_s=2 * float((up or nic)["latency_s"]),
        intra_bw_bytes_per_s=float((up or nic)["bw_bytes_per_s"]),
        inter_alpha_s=2 * float(nic["latency_s"]),
        node_bw_bytes_per_s=per_node * float(nic["bw_bytes_per_s"]),
        rails_per_node=per_node, nodes_per_leaf=len(servers),
        oversubscription=seen_oversubscription(fabric, placed),
        gamma_s_per_byte=gamma_s_per_byte, scaleup_link="nvlink" if up else "link",
        scaleout_link=str(nic["tier"]))


@dataclass(frozen=True, kw_only=True)
class Agreement:
    """One algorithm at one size: routed on the graph vs the comm hierarchy's formula."""

    algorithm: str
    graph_s: float
    comm_s: float

    @property
    def rel_error(self) -> float:
        """comm / graph − 1: how far the hierarchy's time is from the routed one."""
        return self.comm_s / self.graph_s - 1.0


def compare_with_comm(fabric: Fabric, size_bytes: float, *, ranks: Sequence[str] | None = None,
                      algorithms: Sequence[str] = ("ring", "double_binary_tree", "hierarchical"),
                      pxn: bool = True) -> list[Agreement]:
    """Each algorithm's routed time and the time ``mlfleet.comm.select`` gives on the comm
    Topology of the same ranks (:func:`comm_topology_from_graph`); ``alltoall`` compares
    with ``select.alltoall_time_on``."""
    placed = check_placement(fabric, ranks)
    topo = comm_topology_from_graph(fabric, ranks=placed)
    graph = collective_times_on_graph(fabric, size_bytes, ranks=placed, algorithms=algorithms,
                                      pxn=pxn)
    reduces = [a for a in algorithms if a != "alltoall"]
    comm = select.allreduce_times(topo, size_bytes, algorithms=reduces) if reduces else {}
    if "alltoall" in algorithms:
        comm["alltoall"] = select.alltoall_time_on(topo, size_bytes)
    return [Agreement(algorithm=a, graph_s=float(graph[a]), comm_s=float(comm[a]))
            for a in algorithms]

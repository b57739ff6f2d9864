"""The graph fed back into mlfleet.comm: where the routed time and the comm hierarchy agree,
and where the graph sees a bottleneck the hierarchy cannot."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.comm import select
from mlfleet.infra.topology.collectives import collective_time
from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.feed import (
    allreduce_times_on_graph,
    comm_topology_from_graph,
    compare_with_comm,
)
from mlfleet.infra.topology.graph import Fabric, GpuNodes, rail_optimized


def _dgx(nodes: int, o: float = 1.0, latency_s: float = 0.5e-6) -> Fabric:
    """DGX H100 nodes; comm's α is one message over one switch, so each of the two links of
    a one-switch path gets half of it."""
    return rail_optimized(GpuNodes(nodes=nodes, oversubscription=o, latency_s=latency_s,
                                   scaleup_latency_s=latency_s))


def test_graph_times_are_affine_in_size_and_vectorised() -> None:
    fabric = _dgx(2)
    sizes = np.array([0.0, 1e6, 1e9])
    times = allreduce_times_on_graph(fabric, sizes, algorithms=["ring", "hierarchical"])
    for i, size in enumerate(sizes):
        direct = collective_time(fabric, "ring", float(size), channels=8, pxn=True).time_s
        assert times["ring"][i] == pytest.approx(direct, rel=1e-12)
    with pytest.raises(TopologyInputError, match="alltoall"):
        allreduce_times_on_graph(fabric, 1.0, algorithms=["alltoall"])


def test_comm_topology_levels_come_from_the_graph() -> None:
    topo = comm_topology_from_graph(_dgx(4))
    assert (topo.ranks, topo.gpus_per_node, topo.rails_per_node) == (32, 8, 8)
    assert topo.intra_bw_bytes_per_s == 450e9 and topo.node_bw_bytes_per_s == 400e9
    assert topo.nodes_per_leaf == 4 and topo.oversubscription == pytest.approx(1.0)
    assert topo.inter_alpha_s == pytest.approx(1e-6)


def test_where_graph_and_hierarchy_agree_inside_one_scalable_unit() -> None:
    """4 DGX H100 (32 GPUs) on one rail-optimized unit, 1 GB. Bandwidth alone (zero
    latencies): ring (8 channels, PXN), hierarchical and AlltoAll agree exactly; comm's
    double binary tree is +28.6%: its 2·S·β is the busiest node of a large tree, the routed
    4-node trees load their busiest link less. With latencies: ring −1.25% and AlltoAll
    −0.21% (a PXN relay adds an NVLink hop to each step, which comm's max(α₁, α₂) leaves
    out), double binary tree +39.1% (comm also charges the pipeline fill)."""
    algorithms = ["ring", "double_binary_tree", "hierarchical", "alltoall"]
    bandwidth = {r.algorithm: r.rel_error
                 for r in compare_with_comm(_dgx(4, latency_s=0.0), 1e9, algorithms=algorithms)}
    for name in ("ring", "hierarchical", "alltoall"):
        assert abs(bandwidth[name]) < 1e-12, (name, bandwidth[name])
    assert bandwidth["double_binary_tree"] == pytest.approx(0.2857, abs=5e-4)
    timed = {r.algorithm: r.rel_error for r in compare_with_comm(_dgx(4), 1e9,
                                                                  algorithms=algorithms)}
    assert timed["ring"] == pytest.approx(-0.0125, abs=5e-4)
    assert timed["alltoall"] == pytest.approx(-0.0021, abs=5e-4)
    assert abs(timed["hierarchical"]) < 1e-12
    assert timed["double_binary_tree"] == pytest.approx(0.3907, abs=5e-4)


@pytest.mark.slow
def test_the_graph_sees_an_oversubscribed_spine_the_hierarchy_cannot() -> None:
    """64 DGX H100 (2 scalable units, 512 GPUs) at 2:1, 1 GB ring. Node-major, the ring
    crosses the spine twice, so the graph's bandwidth term is comm's; comm's −25.4% is
    latency (1,022 steps; a step here is a PXN relay plus a leaf or spine path, comm charges
    one α). Alternate the nodes between the two units and every ring hop crosses the 2:1
    spine: the routed bandwidth term doubles (×2.000, bottleneck a leaf-spine link), while
    comm, which places ranks node-major, predicts the same 6.01 ms for both (−53.9% against
    the routed 13.0 ms)."""
    fabric = _dgx(64, o=2.0)
    nodes = [fabric.endpoints[8 * n: 8 * n + 8] for n in range(64)]
    alternating = [g for i in range(32) for n in (i, 32 + i) for g in nodes[n]]
    node_major = collective_time(fabric, "ring", 1e9, channels=8, pxn=True)
    spread = collective_time(fabric, "ring", 1e9, ranks=alternating, channels=8, pxn=True)
    assert spread.phases[0].bandwidth_s / node_major.phases[0].bandwidth_s == pytest.approx(2.0)
    assert spread.bottleneck is not None and spread.bottleneck.tier == "leaf-spine"
    comm_s = float(select.allreduce_times(comm_topology_from_graph(fabric), 1e9,
                                          algorithms=["ring"])["ring"])
    assert comm_s / node_major.time_s - 1 == pytest.approx(-0.2537, abs=5e-4)
    assert comm_s / spread.time_s - 1 == pytest.approx(-0.5392, abs=5e-4)

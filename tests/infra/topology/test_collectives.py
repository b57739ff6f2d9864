"""Per-link loads of collectives against hand computations, and the oversubscription factor."""

from __future__ import annotations

import pytest

from mlfleet.infra.topology.collectives import collective_time
from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.graph import GpuNodes, fat_tree, rail_optimized, top_of_rack

MB = 1e6


def test_ring_on_a_4_ary_fat_tree_by_hand() -> None:
    """16 hosts node-major, S = 16 MB: 2(p−1) = 30 rounds of S/p = 1 MB, so every ring edge
    carries 30 MB. Host h0.0.0's uplink: its 30 MB. h0.0.1 -> h0.1.0 changes edge switch:
    ECMP halves it over agg0.0 and agg0.1, 15 MB each. h0.1.1 -> h1.0.0 leaves the pod: 15 MB
    up each aggregation switch, then a quarter, 7.5 MB, on each of the 4 core links.
    The slowest link is any host link: 30 MB / 50 GB/s = 0.6 ms."""
    ring = collective_time(fat_tree(4, latency_s=0.0), "ring", 16 * MB)
    loads = ring.loads
    assert loads[("h0.0.0", "edge0.0")] == pytest.approx(30 * MB)
    assert loads[("edge0.0", "agg0.0")] == loads[("edge0.0", "agg0.1")] == pytest.approx(15 * MB)
    assert loads[("agg0.0", "core0")] == pytest.approx(7.5 * MB)
    assert loads[("agg0.1", "core3")] == pytest.approx(7.5 * MB)
    assert loads[("agg0.0", "edge0.0")] == pytest.approx(15 * MB)  # h3.1.1 -> h0.0.0 comes down
    assert ring.time_s == pytest.approx(30 * MB / 50e9)
    assert ring.bottleneck is not None and ring.bottleneck.tier == "host-edge"


def test_tree_on_a_4_ary_fat_tree_by_hand() -> None:
    """Heap tree over h0.0.0 (root), h0.0.1, h0.1.0, h0.1.1: parents 0, 0, 1. S = 1 MB each
    way on every tree edge. h0.1.0<->h0.0.0 and h0.1.1<->h0.0.1 both cross edge0.1<->edge0.0,
    split over two aggregation switches: 0.5 + 0.5 = 1 MB on each edge-agg link per direction.
    h0.0.0 sends 1 MB to each of its two children: 2 MB on its host link, the bottleneck."""
    ranks = ["h0.0.0", "h0.0.1", "h0.1.0", "h0.1.1"]
    tree = collective_time(fat_tree(4, latency_s=0.0), "tree", 1 * MB, ranks=ranks)
    loads = tree.loads
    assert loads[("edge0.1", "agg0.0")] == loads[("agg0.0", "edge0.0")] == pytest.approx(1 * MB)
    assert loads[("h0.0.0", "edge0.0")] == loads[("h0.0.1", "edge0.0")] == pytest.approx(2 * MB)
    assert loads[("edge0.0", "h0.0.0")] == pytest.approx(2 * MB)
    assert not any(u.startswith("core") or v.startswith("core") for u, v in loads)
    assert tree.time_s == pytest.approx(2 * MB / 50e9)


def _two_by_two(kind: str) -> object:
    spec = GpuNodes(nodes=2, gpus_per_node=2, spines=1, latency_s=0.0, scaleup_latency_s=0.0)
    return rail_optimized(spec) if kind == "rail" else top_of_rack(spec)


def test_ring_on_rail_optimized_vs_top_of_rack_by_hand() -> None:
    """2 nodes x 2 GPUs, ranks gpu0.0, gpu0.1, gpu1.0, gpu1.1, S = 4 MB: 6 rounds of 1 MB,
    6 MB per ring edge. Rail-optimized: gpu0.1 -> gpu1.0 and gpu1.1 -> gpu0.0 go from rail 1
    to rail 0, so through the spine: 12 MB on leaf1 -> spine0 and on spine0 -> leaf0.
    With PXN the data first moves over NVLink to the rail-0 GPU of its own node (gpu0.1 ->
    gpu0.0 -> leaf0 -> gpu1.0): the spine and rail 1 carry nothing, and gpu0.0's NIC carries
    the relayed 6 MB. Top-of-rack: both nodes share one leaf, nothing reaches the spine either."""
    rail = collective_time(_two_by_two("rail"), "ring", 4 * MB)  # type: ignore[arg-type]
    assert rail.loads[("leaf1", "spine0")] == pytest.approx(12 * MB)
    assert rail.loads[("spine0", "leaf0")] == pytest.approx(12 * MB)
    assert rail.loads[("gpu0.0", "nvs0")] == pytest.approx(6 * MB)
    pxn = collective_time(_two_by_two("rail"), "ring", 4 * MB, pxn=True)  # type: ignore[arg-type]
    assert not any("spine" in u or "spine" in v for u, v in pxn.loads)
    assert pxn.loads[("gpu0.1", "nvs0")] == pytest.approx(6 * MB)  # the relay
    assert pxn.loads[("gpu0.0", "leaf0")] == pytest.approx(6 * MB)
    assert ("gpu0.1", "leaf1") not in pxn.loads
    tor = collective_time(_two_by_two("tor"), "ring", 4 * MB)  # type: ignore[arg-type]
    assert not any("spine" in u or "spine" in v for u, v in tor.loads)
    assert tor.loads[("gpu0.1", "leaf0")] == pytest.approx(6 * MB)


def test_tree_on_rail_optimized_by_hand() -> None:
    """Heap tree over gpu0.0, gpu0.1, gpu1.0, gpu1.1: gpu0.1 under gpu0.0 (NVLink), gpu1.0
    under gpu0.0 (rail 0, leaf0 only), gpu1.1 under gpu0.1 (rail 1, leaf1 only): 1 MB per
    direction on each; no spine traffic."""
    tree = collective_time(_two_by_two("rail"), "tree", 1 * MB)  # type: ignore[arg-type]
    assert tree.loads[("gpu0.0", "leaf0")] == pytest.approx(1 * MB)
    assert tree.loads[("leaf1", "gpu1.1")] == pytest.approx(1 * MB)
    assert tree.loads[("gpu0.0", "nvs0")] == pytest.approx(1 * MB)
    assert not any("spine" in u or "spine" in v for u, v in tree.loads)


@pytest.mark.parametrize("o", [1.0, 1.5, 2.0, 3.0, 4.0, 7.5])
def test_oversubscription_slows_a_cross_pod_ring_by_the_predicted_factor(o: float) -> None:
    """k = 4, ring with rank i in pod i mod 4: each edge switch sends k/2 = 2 chunks per round
    up k/2 uplinks of b/o: the bandwidth term grows by max(1, o · c/(k/2)) with c = 2 flows
    leaving an edge switch = o. Node-major, c = 1: max(1, o/2). The bottleneck moves from
    the host links to the edge-aggregation links once the factor exceeds 1."""
    hosts = fat_tree(4).endpoints
    strided = [hosts[(i % 4) * 4 + i // 4] for i in range(16)]
    base = collective_time(fat_tree(4), "ring", 16 * MB, ranks=strided)
    thin = collective_time(fat_tree(4, oversubscription=o), "ring", 16 * MB, ranks=strided)
    ratio = thin.phases[0].bandwidth_s / base.phases[0].bandwidth_s
    assert ratio == pytest.approx(max(1.0, o), rel=1e-12)
    if o > 1:
        assert thin.bottleneck is not None and thin.bottleneck.tier == "edge-agg"
    node_major = collective_time(fat_tree(4, oversubscription=o), "ring", 16 * MB)
    assert node_major.phases[0].bandwidth_s / base.phases[0].bandwidth_s == pytest.approx(
        max(1.0, o / 2), rel=1e-12)


def test_bad_collective_arguments() -> None:
    fabric = fat_tree(4)
    with pytest.raises(TopologyInputError, match="algorithm"):
        collective_time(fabric, "butterfly", 1.0)
    with pytest.raises(TopologyInputError, match="not endpoints: edge0.0"):
        collective_time(fabric, "ring", 1.0, ranks=["h0.0.0", "edge0.0"])
    with pytest.raises(TopologyInputError, match=r"size_bytes\(=-1"):
        collective_time(fabric, "ring", -1.0)


@pytest.mark.slow
def test_hash_ecmp_collides_where_the_fluid_split_does_not() -> None:
    """k = 8, ring with consecutive ranks in different pods, non-blocking: split ECMP keeps
    every link at the host links' load; hashing each of the 128 flows onto one of 16 paths
    collides on uplinks: over seeds 0-19 the ring is 3.0x to 5.0x slower, 4.1x on average
    (Al-Fares et al. 2008 §2.3 on hash collisions of large flows). AlltoAll's 16,256 small
    flows average out: 1.17x to 1.24x over seeds 0-4."""
    fabric = fat_tree(8, latency_s=0.0)
    hosts = fabric.endpoints
    strided = [hosts[(i % 8) * 16 + i // 8] for i in range(128)]
    split = collective_time(fabric, "ring", 1e9, ranks=strided).time_s
    ratios = [collective_time(fabric, "ring", 1e9, ranks=strided, mode="hash", seed=s).time_s
              / split for s in range(20)]
    assert min(ratios) == pytest.approx(3.0) and max(ratios) == pytest.approx(5.0)
    assert sum(ratios) / len(ratios) == pytest.approx(4.1)
    a2a = collective_time(fabric, "alltoall", 1e9).time_s
    hashed = [collective_time(fabric, "alltoall", 1e9, mode="hash", seed=s).time_s / a2a
              for s in range(5)]
    assert min(hashed) == pytest.approx(1.1654, abs=1e-4)
    assert max(hashed) == pytest.approx(1.2362, abs=1e-4)

"""Builders: node and link counts of each topology, and one-line errors for bad shapes."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.formulas import torus_links
from mlfleet.infra.topology.graph import (
    GpuNodes,
    fat_tree,
    join_datacenters,
    leaf_spine,
    rail_optimized,
    top_of_rack,
    torus,
)


@pytest.mark.parametrize("k", [4, 6, 8])
def test_fat_tree_counts(k: int) -> None:
    fabric = fat_tree(k)
    kinds = nx.get_node_attributes(fabric.graph, "kind")
    count = {kind: list(kinds.values()).count(kind) for kind in set(kinds.values())}
    assert count == {"host": k**3 // 4, "edge": k * k // 2, "agg": k * k // 2, "core": k * k // 4}
    assert fabric.graph.number_of_edges() == 3 * k**3 // 4
    assert all(d == k for n, d in fabric.graph.degree() if kinds[n] != "host")


def test_oversubscription_thins_only_the_edge_uplinks() -> None:
    fabric = fat_tree(4, oversubscription=2.0)
    bw = {t: {b for *_, tt, b in [(u, v, d["tier"], d["bw_bytes_per_s"])
                                  for u, v, d in fabric.graph.edges(data=True)] if tt == t}
          for t in ("host-edge", "edge-agg", "agg-core")}
    assert bw == {"host-edge": {50e9}, "edge-agg": {25e9}, "agg-core": {50e9}}


def test_rail_optimized_puts_nic_i_of_a_unit_on_leaf_i() -> None:
    fabric = rail_optimized(GpuNodes(nodes=64, gpus_per_node=8, leaf_down_ports=32))
    g = fabric.graph
    assert {next(n for n in g["gpu5.3"] if n.startswith("leaf"))} == {"leaf3"}
    assert {next(n for n in g["gpu37.3"] if n.startswith("leaf"))} == {"leaf11"}  # 2nd unit
    tor = top_of_rack(GpuNodes(nodes=64, gpus_per_node=8, leaf_down_ports=32))
    assert {n for i in range(8) for n in tor.graph[f"gpu5.{i}"] if n.startswith("leaf")} == {
        "leaf1"}  # 4 nodes per 32-port leaf


@pytest.mark.parametrize("dims", [(4,), (2, 3), (4, 4, 4), (2, 2, 2), (3, 1, 5)])
def test_torus_link_count_matches_the_closed_form(dims: tuple[int, ...]) -> None:
    fabric = torus(dims)
    assert fabric.graph.number_of_edges() == torus_links(dims)
    assert len(fabric.endpoints) == math.prod(dims)


def test_tpu_v4_torus_has_six_links_per_chip() -> None:
    fabric = torus((16, 16, 16))
    assert len(fabric.endpoints) == 4096
    assert {d for _, d in fabric.graph.degree()} == {6}


def test_leaf_spine_and_datacenters() -> None:
    rack = leaf_spine(hosts=10, hosts_per_leaf=4, spines=2, oversubscription=2.0)
    assert len(rack.endpoints) == 10
    assert rack.graph.edges["leaf0", "spine0"]["bw_bytes_per_s"] == 4 * 50e9 / 2 / 2
    both = join_datacenters(fat_tree(4), fat_tree(4), links=3, latency_s=2e-3)
    dci = [d for *_, d in both.graph.edges(data=True) if d["tier"] == "dci"]
    assert len(dci) == 3 and len(both.endpoints) == 32
    assert nx.is_connected(both.graph)


@pytest.mark.parametrize(("build", "match"), [
    (lambda: fat_tree(5), r"k\(=5\) must be an even integer"),
    (lambda: fat_tree(4, oversubscription=0.5), r"oversubscription\(=0.5\)"),
    (lambda: torus((4, 0, 4)), r"torus dims\(=4x0x4\)"),
    (lambda: torus(()), "torus dims"),
    (lambda: leaf_spine(hosts=0, hosts_per_leaf=4, spines=1), r"hosts\(=0\)"),
    (lambda: top_of_rack(GpuNodes(nodes=2, leaf_down_ports=4)), "leaf_down_ports"),
])
def test_bad_shapes_raise_one_line(build: object, match: str) -> None:
    with pytest.raises(TopologyInputError, match=match) as info:
        build()  # type: ignore[operator]
    assert "\n" not in str(info.value)

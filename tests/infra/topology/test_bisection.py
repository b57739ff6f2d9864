"""Bisection: the closed forms against max-flow on the graph (exact, or on the symmetry
quotient for large k), and the hop-count closed forms against BFS."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.infra.topology.bisection import (
    fat_tree_orbit,
    fat_tree_quotient,
    graph_bisection_bytes_per_s,
    quotient,
    quotient_max_flow_bytes_per_s,
)
from mlfleet.infra.topology.formulas import (
    fat_tree_bisection_bytes_per_s,
    fat_tree_mean_hops,
    torus_bisection_links,
    torus_diameter_links,
    torus_mean_hops,
)
from mlfleet.infra.topology.graph import GpuNodes, fat_tree, rail_optimized, top_of_rack, torus
from mlfleet.infra.topology.hops import hop_stats

B = 50e9
EVEN_K = st.integers(2, 32).map(lambda h: 2 * h)  # k = 4 ... 64
OVERSUB = st.floats(1.0, 16.0, allow_nan=False)


def _canonical(q: object) -> dict[frozenset[object], float]:
    return {frozenset((u, v)): float(bw) for u, v, bw in q.edges(data="bw_bytes_per_s")}  # type: ignore[attr-defined]


@settings(max_examples=25, deadline=None)
@given(k=st.sampled_from([4, 6, 8, 10, 12]), o=OVERSUB)
def test_fat_tree_bisection_is_the_exact_max_flow(k: int, o: float) -> None:
    """Exact max-flow on the full graph (≤ 432 hosts, < 0.1 s each) equals (k³/4)·b/2/o."""
    fabric = fat_tree(k, link_bw_bytes_per_s=B, oversubscription=o)
    assert graph_bisection_bytes_per_s(fabric) == pytest.approx(
        fat_tree_bisection_bytes_per_s(k, link_bw_bytes_per_s=B, oversubscription=o), rel=1e-12)


@pytest.mark.parametrize("k", [4, 8, 16])
@pytest.mark.parametrize("o", [1.0, 3.0])
def test_the_quotient_is_the_graph_folded_by_its_symmetry(k: int, o: float) -> None:
    """The written-down quotient is exactly the full graph's orbit graph, and both max-flows
    agree with the full graph's."""
    fabric = fat_tree(k, link_bw_bytes_per_s=B, oversubscription=o)
    folded = quotient(fabric, fat_tree_orbit)
    written = fat_tree_quotient(k, link_bw_bytes_per_s=B, oversubscription=o)
    assert _canonical(folded) == pytest.approx(_canonical(written), rel=1e-12)
    assert quotient_max_flow_bytes_per_s(written, ("host", True), ("host", False)) == \
        pytest.approx(graph_bisection_bytes_per_s(fabric), rel=1e-12)


@given(k=EVEN_K, o=OVERSUB)
def test_fat_tree_bisection_closed_form_for_k_up_to_64(k: int, o: float) -> None:
    """k = 4 ... 64, any o >= 1: max-flow on the symmetry quotient equals the closed form."""
    q = fat_tree_quotient(k, link_bw_bytes_per_s=B, oversubscription=o)
    assert quotient_max_flow_bytes_per_s(q, ("host", True), ("host", False)) == pytest.approx(
        fat_tree_bisection_bytes_per_s(k, link_bw_bytes_per_s=B, oversubscription=o), rel=1e-12)


@pytest.mark.parametrize("dims", [(4,), (6, 4), (4, 4, 4), (4, 4, 8), (8, 2, 4)])
def test_torus_bisection_is_the_max_flow_across_the_longest_dimension(
        dims: tuple[int, ...]) -> None:
    assert graph_bisection_bytes_per_s(torus(dims, link_bw_bytes_per_s=B)) == pytest.approx(
        torus_bisection_links(dims) * B)


@pytest.mark.parametrize("o", [1.0, 2.0, 4.0])
def test_gpu_fabrics_bisect_at_n_b_over_2o_across_units(o: float) -> None:
    """Halves of whole scalable units (rail-optimized) or whole leaves (top-of-rack):
    N·b/2/o; inside one unit the rail leaves alone join the halves, so o does not matter."""
    rail = rail_optimized(GpuNodes(nodes=64, oversubscription=o))
    assert graph_bisection_bytes_per_s(rail) == pytest.approx(512 * B / 2 / o)
    tor = top_of_rack(GpuNodes(nodes=16, oversubscription=o))
    assert graph_bisection_bytes_per_s(tor) == pytest.approx(128 * B / 2 / o)
    one_unit = rail_optimized(GpuNodes(nodes=8, oversubscription=o))
    assert graph_bisection_bytes_per_s(one_unit) == pytest.approx(64 * B / 2)


@pytest.mark.parametrize("k", [4, 8, 16])
def test_fat_tree_hops(k: int) -> None:
    stats = hop_stats(fat_tree(k))
    assert stats.max_links == 6
    assert stats.mean_links == pytest.approx(fat_tree_mean_hops(k), rel=1e-12)


@pytest.mark.parametrize("dims", [(5,), (3, 4), (4, 4, 4), (2, 3, 5), (16, 16, 16)])
def test_torus_hops(dims: tuple[int, ...]) -> None:
    stats = hop_stats(torus(dims), include_self=True)
    assert stats.max_links == torus_diameter_links(dims)
    assert stats.mean_links == pytest.approx(torus_mean_hops(dims), rel=1e-12)

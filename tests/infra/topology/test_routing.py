"""ECMP routing: conservation, equal splitting, seeded hashing, non-transit endpoints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.graph import GpuNodes, fat_tree, rail_optimized
from mlfleet.infra.topology.routing import Flow, distances_to, ecmp_loads

FT = fat_tree(4)
HOSTS = FT.endpoints


def test_cross_pod_flow_splits_over_all_four_core_paths() -> None:
    """h0.0.0 -> h1.0.0: 2 aggregation uplinks x 2 cores each = 4 equal paths of 1/4."""
    loads = ecmp_loads(FT, [Flow(src="h0.0.0", dst="h1.0.0", size_bytes=4.0)])
    assert loads[("edge0.0", "agg0.0")] == loads[("edge0.0", "agg0.1")] == 2.0
    assert {loads[("agg0.0", "core0")], loads[("agg0.0", "core1")],
            loads[("agg0.1", "core2")], loads[("agg0.1", "core3")]} == {1.0}
    assert loads[("edge1.0", "h1.0.0")] == 4.0


flows = st.lists(st.tuples(st.sampled_from(HOSTS), st.sampled_from(HOSTS),
                           st.floats(0.0, 1e6, allow_nan=False)), min_size=1, max_size=12)


@given(flows=flows)
def test_split_conserves_bytes_at_every_switch(flows: list[tuple[str, str, float]]) -> None:
    routed = [Flow(src=a, dst=b, size_bytes=s) for a, b, s in flows]
    loads = ecmp_loads(FT, routed)
    for node, attrs in FT.graph.nodes(data=True):
        if attrs["transit"]:
            inflow = sum(b for (u, v), b in loads.items() if v == node)
            outflow = sum(b for (u, v), b in loads.items() if u == node)
            assert inflow == pytest.approx(outflow, rel=1e-9, abs=1e-6)
    hops = sum(f.size_bytes * distances_to(FT, f.dst, weight="")[f.src] for f in routed)
    assert sum(loads.values()) == pytest.approx(hops, rel=1e-9, abs=1e-6)


@given(flows=flows, seed=st.integers(0, 2**32 - 1))
def test_hash_takes_one_shortest_path_per_flow_and_is_seeded(
        flows: list[tuple[str, str, float]], seed: int) -> None:
    routed = [Flow(src=a, dst=b, size_bytes=s) for a, b, s in flows]
    first = ecmp_loads(FT, routed, mode="hash", seed=seed)
    assert first == ecmp_loads(FT, routed, mode="hash", seed=seed)
    split = ecmp_loads(FT, routed)
    assert sum(first.values()) == pytest.approx(sum(split.values()), rel=1e-9, abs=1e-6)


def test_gpus_relay_nothing() -> None:
    """Rail 1 to rail 0 on another node crosses the spine: no path through a GPU or NVLink."""
    fabric = rail_optimized(GpuNodes(nodes=2, gpus_per_node=2, spines=1))
    loads = ecmp_loads(fabric, [Flow(src="gpu0.1", dst="gpu1.0", size_bytes=1.0)])
    assert set(loads) == {("gpu0.1", "leaf1"), ("leaf1", "spine0"), ("spine0", "leaf0"),
                          ("leaf0", "gpu1.0")}


def test_bad_flow_and_mode() -> None:
    with pytest.raises(TopologyInputError, match="'nope' is not a node"):
        ecmp_loads(FT, [Flow(src="nope", dst="h0.0.0", size_bytes=1.0)])
    with pytest.raises(TopologyInputError, match=r"mode\(='random'\)"):
        ecmp_loads(FT, [], mode="random")

"""Hierarchical (two- and three-level) AllReduce."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.comm.cost.allreduce import double_binary_tree_allreduce_time, ring_allreduce_time
from mlfleet.comm.cost.hierarchy import (
    LevelLink,
    hierarchical_allreduce_time,
    multilevel_allreduce_time,
    rack_aware_allreduce_time,
)

INTRA: dict[str, Any] = {"intra_alpha_s": 0.6e-6, "intra_bw_bytes_per_s": 450e9}
INTER: dict[str, Any] = {"inter_alpha_s": 1e-6, "inter_bw_bytes_per_s": 50e9}


def test_two_level_hand_value() -> None:
    s, g, n = 1e9, 8, 4
    expected = (2 * 7 * 0.6e-6 + 2 * 7 / 8 * s / 450e9
                + 2 * 3 * 1e-6 + 2 * 3 / 4 * (s / g) / 50e9)
    got = hierarchical_allreduce_time(s, gpus_per_node=g, nodes=n, **INTRA, **INTER)
    assert float(got) == pytest.approx(expected)


@settings(max_examples=40, deadline=None)
@given(g=st.integers(min_value=2, max_value=16), s=st.floats(min_value=0.0, max_value=1e10))
def test_one_node_is_the_flat_ring(g: int, s: float) -> None:
    got = hierarchical_allreduce_time(s, gpus_per_node=g, nodes=1, **INTRA, **INTER)
    flat = ring_allreduce_time(g, s, alpha_s=0.6e-6, bw_bytes_per_s=450e9)
    assert float(got) == pytest.approx(float(flat), rel=1e-12, abs=1e-15)


def test_one_gpu_per_node_is_the_ring_across_nodes() -> None:
    got = hierarchical_allreduce_time(1e8, gpus_per_node=1, nodes=32, **INTRA, **INTER)
    assert float(got) == pytest.approx(float(ring_allreduce_time(32, 1e8, alpha_s=1e-6,
                                                                bw_bytes_per_s=50e9)))


def test_rack_aware_cuts_latency_and_shields_the_spine() -> None:
    s = 1e6
    common: dict[str, Any] = {"gpus_per_node": 8, **INTRA}
    two = hierarchical_allreduce_time(s, nodes=128, **common, **INTER)
    three = rack_aware_allreduce_time(s, nodes_per_rack=32, racks=4, rack_alpha_s=1e-6,
                                      rack_bw_bytes_per_s=50e9, spine_alpha_s=1e-6,
                                      spine_bw_bytes_per_s=50e9 / 4, **common)
    assert three < two  # 2·31 + 2·3 inter-node rounds instead of 2·127
    # with one rack it is the two-level algorithm
    one_rack = rack_aware_allreduce_time(s, nodes_per_rack=16, racks=1, rack_alpha_s=1e-6,
                                         rack_bw_bytes_per_s=50e9, spine_alpha_s=9.0,
                                         spine_bw_bytes_per_s=1.0, **common)
    assert float(one_rack) == pytest.approx(float(hierarchical_allreduce_time(
        s, nodes=16, **common, **INTER)))


def test_top_level_algorithm_is_selectable() -> None:
    levels = [LevelLink(members=8, alpha_s=0.6e-6, bw_bytes_per_s=450e9),
              LevelLink(members=64, alpha_s=1e-6, bw_bytes_per_s=50e9)]
    with_tree = multilevel_allreduce_time(1e8, levels=levels, top_algorithm="double_binary_tree")
    intra = ring_allreduce_time(8, 1e8, alpha_s=0.6e-6, bw_bytes_per_s=450e9)
    top = double_binary_tree_allreduce_time(64, 1e8 / 8, alpha_s=1e-6, bw_bytes_per_s=50e9)
    assert float(with_tree) == pytest.approx(float(intra + top))

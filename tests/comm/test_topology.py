"""Topology: levels and effective links from a cluster, step schedules, link traffic."""

from __future__ import annotations

import dataclasses

import pytest
from comm_builders import make_cluster

from mlfleet.comm import topology as T
from mlfleet.comm.cost import CommInputError


def test_levels_from_a_cluster() -> None:
    topo = T.from_cluster(make_cluster(), ranks=1024, nodes_per_leaf=32)
    assert (topo.nodes, topo.local_ranks, topo.leaves, topo.leaf_nodes) == (128, 8, 4, 32)
    levels = T.levels(topo)
    assert [lv.name for lv in levels] == ["node", "leaf", "spine"]
    assert levels[0].bw_bytes_per_s == 450e9
    assert levels[1].bw_bytes_per_s == pytest.approx(8 * 50e9 / 8)  # rails / GPUs per node
    assert levels[2].bw_bytes_per_s == pytest.approx(50e9 / 2)      # oversubscribed spine
    assert topo.gamma_s_per_byte == pytest.approx(3 / 3.35e12)
    # the ring's boundary hop uses every rail: min(NVLink, node bandwidth)
    assert T.ring_link(topo) == (1e-6, 400e9)


def test_small_jobs_stay_inside_one_node() -> None:
    topo = T.from_cluster(make_cluster(), ranks=8)
    assert topo.nodes == 1 and [lv.name for lv in T.levels(topo)] == ["node"]
    assert T.ring_link(topo) == (0.6e-6, 450e9)


@pytest.mark.parametrize("ranks", [1, 0, 1025])
def test_ranks_out_of_range(ranks: int) -> None:
    with pytest.raises(CommInputError, match=rf"ranks\(={ranks}\) must be between 2 and the 1024"):
        T.from_cluster(make_cluster(), ranks=ranks)


def test_step_schedules_follow_thakur() -> None:
    assert T.step_schedule("recursive_doubling", 8) == [(1, 1.0, True, True), (2, 1.0, True, True),
                                                        (4, 1.0, True, True)]
    rhd = T.step_schedule("rabenseifner", 8)
    assert [d for d, *_ in rhd] == [4, 2, 1, 1, 2, 4]
    assert [f for _, f, *_ in rhd] == [0.5, 0.25, 0.125, 0.125, 0.25, 0.5]
    assert len(T.step_schedule("rabenseifner", 12)) == 6 + 2  # fold in and out
    assert len(T.step_schedule("tree", 5)) == 2 * 3


def test_schedule_time_on_a_flat_topology_is_the_closed_form() -> None:
    topo = T.flat(ranks=8, alpha_s=5e-6, bw_bytes_per_s=25e9)
    got = T.schedule_time(topo, T.step_schedule("rabenseifner", 8), 1e6)
    assert float(got) == pytest.approx(6 * 5e-6 + 2 * 7 / 8 * 1e6 / 25e9)


def test_link_traffic() -> None:
    topo = T.from_cluster(make_cluster(), ranks=1024, nodes_per_leaf=32)
    s = 1e9
    ring = T.link_traffic("ring", topo, s)
    volume = 2 * 1023 / 1024 * s
    assert float(ring.scaleout_bytes_per_nic) == pytest.approx(volume / 8)
    assert float(ring.scaleup_bytes_per_gpu) == pytest.approx(volume * 7 / 8)
    # recursive halving sends S/2 + S/4 + ... off-node from every GPU at once
    rhd = T.link_traffic("rabenseifner", topo, s)
    assert float(rhd.scaleout_bytes_per_nic) > 7 * float(ring.scaleout_bytes_per_nic)
    # three levels put less through the spine than two
    two, three = (T.link_traffic(a, topo, s) for a in ("hierarchical", "hierarchical3"))
    assert float(three.spine_bytes_per_node) < float(two.spine_bytes_per_node)
    a2a = T.link_traffic("alltoall", topo, s)
    assert float(a2a.spine_bytes_per_node) == pytest.approx((1024 - 256) / 1024 * s * 8)
    with pytest.raises(CommInputError, match="known"):
        T.link_traffic("gossip", topo, s)


def test_topology_validates_itself() -> None:
    topo = T.flat(ranks=4, alpha_s=1e-6, bw_bytes_per_s=1e9)
    with pytest.raises(CommInputError, match="node_bw_bytes_per_s"):
        dataclasses.replace(topo, gpus_per_node=2)
    with pytest.raises(CommInputError, match="oversubscription"):
        dataclasses.replace(topo, oversubscription=0.0)

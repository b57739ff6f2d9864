"""Algorithm selection and crossovers, checked against the closed forms."""

from __future__ import annotations

import json
import math

import pytest
from comm_builders import make_cluster

from mlfleet.comm import select as S
from mlfleet.comm import topology as T
from mlfleet.comm.cost import CommInputError

A, B = 5e-6, 25e9


def flat(n: int) -> T.Topology:
    return T.flat(ranks=n, alpha_s=A, bw_bytes_per_s=B)


def crossing(table: S.Crossover, a: str, b: str) -> float:
    sizes = [c.size_bytes for c in table.pairwise if {c.first, c.second} == {a, b}]
    assert len(sizes) == 1, (a, b, table.pairwise)
    return sizes[0]


@pytest.mark.parametrize("n", [8, 64])
def test_flat_crossovers_match_closed_forms(n: int) -> None:
    lg = math.log2(n)
    table = S.crossover(flat(n), tie_tolerance=0.0)
    # recursive doubling lg n(α + Sβ) vs Rabenseifner 2 lg n α + 2(n-1)/n Sβ
    assert crossing(table, "recursive_doubling", "rabenseifner") == pytest.approx(
        lg * A * B / (lg - 2 * (n - 1) / n), rel=1e-5)
    # ring 2(n-1)α + 2(n-1)/n Sβ vs recursive doubling
    assert crossing(table, "ring", "recursive_doubling") == pytest.approx(
        (2 * (n - 1) - lg) * A * B / (lg - 2 * (n - 1) / n), rel=1e-5)
    # ring vs binomial tree 2 lg n (α + Sβ)
    assert crossing(table, "ring", "tree") == pytest.approx(
        (2 * (n - 1) - 2 * lg) * A * B / (2 * lg - 2 * (n - 1) / n), rel=1e-5)
    # with exact ties the range boundary is the RD/Rabenseifner crossing
    assert [r.algorithm for r in table.ranges] == ["recursive_doubling", "rabenseifner"]
    assert table.ranges[0].to_bytes == pytest.approx(crossing(table, "recursive_doubling",
                                                              "rabenseifner"), rel=1e-5)


def test_non_power_of_two_ring_wins_large_messages() -> None:
    n = 12
    table = S.crossover(flat(n), tie_tolerance=0.0)
    assert [r.algorithm for r in table.ranges] == ["recursive_doubling", "rabenseifner", "ring"]
    # Rabenseifner 8α + (7/4 + 2)Sβ vs ring 22α + 22/12 Sβ
    assert table.ranges[-1].from_bytes == pytest.approx(14 * A * B / (3.75 - 22 / 12), rel=1e-5)


def test_expected_ordering_on_a_cluster() -> None:
    cluster = make_cluster(oversubscription=1.0)
    one_node = S.crossover(T.from_cluster(cluster, ranks=8))
    winners = [r.algorithm for r in one_node.ranges]
    assert winners[0] in ("recursive_doubling", "tree") and winners[-1] == "ring"
    two_nodes = S.crossover(T.from_cluster(cluster, ranks=16))
    assert [r.algorithm for r in two_nodes.ranges] == ["recursive_doubling", "hierarchical",
                                                       "ring"]
    big = T.from_cluster(cluster, ranks=1024, nodes_per_leaf=32)
    assert S.compare_allreduce(big, 1e3).best == "recursive_doubling"
    mid = S.allreduce_times(big, 1e7)
    assert mid["hierarchical3"] < mid["hierarchical"] < mid["ring"]


def test_ties_go_to_the_ring() -> None:
    topo = T.from_cluster(make_cluster(), ranks=8)
    strict = S.compare_allreduce(topo, 1e9, tie_tolerance=0.0)
    tolerant = S.compare_allreduce(topo, 1e9)
    assert strict.best == "rabenseifner" and tolerant.best == "ring"
    assert "contention-free" in tolerant.reason


def test_compare_rows_and_bandwidths() -> None:
    sel = S.compare_allreduce(flat(8), 64e3)
    assert sel.best == "recursive_doubling" and sel.rows[0].algorithm == "recursive_doubling"
    assert [r.time_s for r in sel.rows] == sorted(r.time_s for r in sel.rows)
    for row in sel.rows:
        assert row.algbw_bytes_per_s == pytest.approx(64e3 / row.time_s)
        assert row.busbw_bytes_per_s == pytest.approx(row.algbw_bytes_per_s * 2 * 7 / 8)
        assert row.busbw_bytes_per_s <= B
    assert "latency" in sel.reason
    # hierarchical variants are only offered where they differ from the ring
    assert "hierarchical" not in S.default_algorithms(flat(8))


def test_hierarchical_equals_ring_inside_one_node() -> None:
    topo = T.from_cluster(make_cluster(), ranks=8)
    times = S.allreduce_times(topo, [1e3, 1e9], algorithms=["ring", "hierarchical",
                                                             "hierarchical3"])
    assert times["hierarchical"] == pytest.approx(times["ring"])
    assert times["hierarchical3"] == pytest.approx(times["ring"])


def test_other_collectives_on_a_topology() -> None:
    topo = T.from_cluster(make_cluster(), ranks=64)
    s = 1e8
    assert float(S.reduce_scatter_time_on(topo, s) + S.allgather_time_on(topo, s)) == \
        pytest.approx(float(S.allreduce_times(topo, s, algorithms=["ring"])["ring"]))
    uniform = S.alltoall_time_on(topo, s)
    hot = S.alltoall_time_on(topo, s, skew=2.0)
    assert hot > uniform
    # bandwidth term: (n - g)/n of S off-node at the per-GPU rail share
    latency = 7 * 0.6e-6 + 56 * 1e-6
    assert float(uniform) == pytest.approx(latency + 56 / 64 * s / 50e9)


def test_crossover_rejects_a_bad_range() -> None:
    with pytest.raises(CommInputError, match="min_bytes"):
        S.crossover(flat(8), min_bytes=10.0, max_bytes=1.0)


def test_plan_communication_is_json_ready() -> None:
    from mlfleet.catalog.types import Workload
    from mlfleet.comm.data_parallel import plan_communication

    workload = Workload(name="toy-llm", family="llm", unit="token", params=1e9,
                        active_params=1e9, fwd_flop=2e9, bwd_flop=4e9,
                        shape={"layers": 16, "d_model": 2048, "d_ff": 8192, "n_heads": 16,
                               "n_kv_heads": 4, "vocab": 32000})
    plan = plan_communication(cluster=make_cluster(), gpus=64, workload=workload,
                              precision_bytes=2, backward_time_s=0.1).as_dict()
    text = json.dumps(plan)
    assert "NaN" not in text
    assert plan["allreduce"]["algorithm"] in S.ALLREDUCE_CHOICES
    assert plan["gradient_bytes"] == 2e9
    assert plan["bucket"]["exposed_s"] <= plan["bucket"]["no_overlap_exposed_s"]
    assert plan["bucket"]["simulated_exposed_s"] > 0
    assert [z["stage"] for z in plan["zero"]] == ["ddp", "zero1", "zero2", "zero3"]
    assert plan["zero_choice"] == "ddp"  # 16 GB of model state fits in 80 GB
    without = plan_communication(cluster=make_cluster(), gpus=64, workload=workload,
                                 precision_bytes=2, backward_time_s=None).as_dict()
    assert without["bucket"] is None
    assert without["exposed_comm_s"] == pytest.approx(without["allreduce"]["time_s"])

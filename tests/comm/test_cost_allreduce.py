"""AllReduce α-β-γ models: hand-computed values, invariants, errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.comm.cost import ALGORITHMS, CommInputError, allreduce_time, busbw_bytes_per_s
from mlfleet.comm.cost.allreduce import (
    double_binary_tree_allreduce_time,
    pipelined_ring_allreduce_time,
    rabenseifner_allreduce_time,
    recursive_doubling_allreduce_time,
    ring_allreduce_time,
    tree_allreduce_time,
)
from mlfleet.errors import InputError

A, B = 5e-6, 25e9  # 5 µs, 25 GB/s
LINK: dict[str, Any] = {"alpha_s": A, "bw_bytes_per_s": B}
FLAT = [a for a in ALGORITHMS["allreduce"] if a != "hierarchical"]


def test_ring_matches_hand_computation() -> None:
    # 8 ranks, 1 MB: 2*7*5us + 2*7/8*1e6/25e9 + 7/8*1e6*1e-12
    t = ring_allreduce_time(8, 1e6, gamma_s_per_byte=1e-12, **LINK)
    assert float(t) == pytest.approx(70e-6 + 70e-6 + 0.875e-6)


def test_tree_recursive_doubling_rabenseifner_hand_values() -> None:
    s = 1e6
    assert float(tree_allreduce_time(8, s, **LINK)) == pytest.approx(2 * 3 * (A + s / B))
    assert float(recursive_doubling_allreduce_time(8, s, **LINK)) == pytest.approx(3 * (A + s / B))
    assert float(rabenseifner_allreduce_time(8, s, **LINK)) == pytest.approx(
        2 * 3 * A + 2 * 7 / 8 * s / B)


def test_non_power_of_two_folds_two_extra_steps() -> None:
    s = 1e6
    # n = 12: p' = 8, plus 2α + 2Sβ (Thakur et al. 2005 §4.4)
    assert float(rabenseifner_allreduce_time(12, s, **LINK)) == pytest.approx(
        2 * 3 * A + 2 * 7 / 8 * s / B + 2 * A + 2 * s / B)
    assert float(recursive_doubling_allreduce_time(12, s, **LINK)) == pytest.approx(
        3 * (A + s / B) + 2 * A + 2 * s / B)


def test_double_binary_tree_pipelines_with_optimal_chunks() -> None:
    n, s = 16, 64e6
    depth = 2 * 4
    volume = 2 * s / B
    k = math.sqrt((depth - 1) * volume / A)
    expected = (depth + k - 1) * (A + volume / k)
    assert float(double_binary_tree_allreduce_time(n, s, **LINK)) == pytest.approx(expected)
    assert expected == pytest.approx((math.sqrt((depth - 1) * A) + math.sqrt(volume)) ** 2)
    # tiny messages: one chunk, pure latency of the 2·⌊lg n⌋ deep pipeline
    assert float(double_binary_tree_allreduce_time(n, 0.0, **LINK)) == pytest.approx(depth * A)
    # a fixed chunk size
    fixed = double_binary_tree_allreduce_time(n, s, chunk_bytes=1e6, **LINK)
    assert float(fixed) == pytest.approx((depth + 64 - 1) * (A + volume / 64))


def test_vectorised_over_sizes_and_ranks() -> None:
    sizes = np.array([1e3, 1e6, 1e9])
    ranks = np.array([[2], [8], [64]])
    grid = ring_allreduce_time(ranks, sizes, **LINK)
    assert grid.shape == (3, 3)
    assert float(grid[1, 2]) == pytest.approx(float(ring_allreduce_time(8, 1e9, **LINK)))


def test_dispatcher_covers_every_algorithm_and_hierarchical_needs_ranks_per_node() -> None:
    for name in ALGORITHMS["allreduce"]:
        t = allreduce_time(name, 8, 1e6, ranks_per_node=4, **LINK)
        assert float(t) > 0
    with pytest.raises(CommInputError, match="ranks_per_node"):
        allreduce_time("hierarchical", 8, 1e6, **LINK)
    # one link class: hierarchical with all ranks on one node is the ring
    assert float(allreduce_time("hierarchical", 8, 1e6, ranks_per_node=8, **LINK)) == \
        pytest.approx(float(allreduce_time("ring", 8, 1e6, **LINK)))


@pytest.mark.parametrize("kwargs, fragment", [
    ({"n_ranks": 1, "size_bytes": 1e6}, "n_ranks(=1)"),
    ({"n_ranks": 8, "size_bytes": -5.0}, "size_bytes(=-5)"),
    ({"n_ranks": 2.5, "size_bytes": 1.0}, "n_ranks(=2.5)"),
])
def test_bad_input_names_the_value(kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        allreduce_time("ring", alpha_s=A, bw_bytes_per_s=B, **kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_unknown_algorithm_lists_known_ones() -> None:
    with pytest.raises(CommInputError, match="known: ring, tree"):
        allreduce_time("butterfly", 8, 1.0, **LINK)
    with pytest.raises(CommInputError, match="bw_bytes_per_s"):
        allreduce_time("ring", 8, 1.0, alpha_s=A, bw_bytes_per_s=0.0)


ranks_st = st.integers(min_value=2, max_value=4096)
size_st = st.floats(min_value=0.0, max_value=1e11)


@settings(max_examples=60, deadline=None)
@given(n=ranks_st, s1=size_st, s2=size_st, algorithm=st.sampled_from(FLAT))
def test_time_is_monotone_in_size(n: int, s1: float, s2: float, algorithm: str) -> None:
    lo, hi = sorted((s1, s2))
    t_lo = float(allreduce_time(algorithm, n, lo, **LINK))
    t_hi = float(allreduce_time(algorithm, n, hi, **LINK))
    assert t_lo <= t_hi * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(n=ranks_st, s=st.floats(min_value=1.0, max_value=1e11), algorithm=st.sampled_from(FLAT))
def test_busbw_never_exceeds_the_link(n: int, s: float, algorithm: str) -> None:
    t = allreduce_time(algorithm, n, s, **LINK)
    assert float(busbw_bytes_per_s("allreduce", n, s, t)) <= B * (1 + 1e-9)


def test_ring_approaches_two_s_over_b_for_many_ranks() -> None:
    s = 1e9
    ranks = np.array([2, 16, 1024, 2**20])
    bandwidth_only = ring_allreduce_time(ranks, s, alpha_s=0.0, bw_bytes_per_s=B)
    assert np.all(np.diff(bandwidth_only) > 0)
    assert float(bandwidth_only[-1]) == pytest.approx(2 * s / B, rel=1e-5)
    # with latency, the ring's busbw at large S approaches B
    t = ring_allreduce_time(1024, 1e12, **LINK)
    assert float(busbw_bytes_per_s("allreduce", 1024, 1e12, t)) == pytest.approx(B, rel=0.01)


def simulate_pipelined_ring(n: int, size: float, alpha: float, bw: float, gamma: float,
                            k: int) -> float:
    """Exact event-by-event schedule of the pipelined ring (all ranks are symmetric).

    One link sends its 2(n-1)·k blocks in order; block (s, j) may leave once the link is
    free and block (s-1, j) has arrived (α after its last byte left) and, after a
    reduce-scatter step, been added (b·γ). Returns the time the last block arrives.
    """
    block = size / (n * k)
    tau = block / bw
    link_free = 0.0
    arrived = [0.0] * k  # when block j of the previous step arrived (ready to forward)
    for step in range(2 * (n - 1)):
        reduce_delay = block * gamma if 0 < step <= n - 1 else 0.0
        for j in range(k):
            ready = 0.0 if step == 0 else arrived[j] + reduce_delay
            start = max(link_free, ready)
            link_free = start + tau
            arrived[j] = link_free + alpha
    return max(arrived)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(2, 12), size=st.floats(1.0, 1e9), alpha=st.floats(0.0, 1e-3),
       bw=st.floats(1e6, 1e11), gamma=st.floats(0.0, 1e-8), k=st.integers(1, 16))
def test_pipelined_ring_closed_form_equals_schedule_simulation(
        n: int, size: float, alpha: float, bw: float, gamma: float, k: int) -> None:
    model = float(pipelined_ring_allreduce_time(n, size, alpha_s=alpha, bw_bytes_per_s=bw,
                                                blocks=k, gamma_s_per_byte=gamma))
    assert model == pytest.approx(simulate_pipelined_ring(n, size, alpha, bw, gamma, k),
                                  rel=1e-9, abs=1e-15)


def test_pipelined_ring_with_one_block_is_the_classic_ring_and_blocks_hide_latency() -> None:
    for n in (2, 3, 8, 64):
        classic = ring_allreduce_time(n, 1e6, gamma_s_per_byte=1e-12, **LINK)
        one = pipelined_ring_allreduce_time(n, 1e6, blocks=1, gamma_s_per_byte=1e-12, **LINK)
        assert float(one) == pytest.approx(float(classic))
    times = [float(pipelined_ring_allreduce_time(8, 64e6, blocks=k, **LINK)) for k in (1, 2, 8)]
    bound = 2 * 7 / 8 * 64e6 / B
    assert times[0] == pytest.approx(14 * A + bound)  # every step pays α
    assert times[1] == times[2] == pytest.approx(bound + A, rel=1e-9)  # the link never idles
    with pytest.raises(InputError, match="blocks"):
        pipelined_ring_allreduce_time(4, 1e6, blocks=0, **LINK)

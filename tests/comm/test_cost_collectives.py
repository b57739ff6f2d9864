"""AllGather, ReduceScatter, AlltoAll, Broadcast, Reduce, parameter server, algbw/busbw."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.comm.cost import ALGORITHMS, CommInputError, bus_factor, collective_time
from mlfleet.comm.cost.allgather import ring_allgather_time
from mlfleet.comm.cost.allreduce import ring_allreduce_time
from mlfleet.comm.cost.alltoall import (
    bruck_alltoall_time,
    pairwise_alltoall_time,
    skew_from_loads,
)
from mlfleet.comm.cost.bandwidth import algbw_bytes_per_s, busbw_bytes_per_s
from mlfleet.comm.cost.broadcast import (
    binomial_broadcast_time,
    pipelined_chain_broadcast_time,
    scatter_allgather_broadcast_time,
)
from mlfleet.comm.cost.parameter_server import (
    parameter_server_allreduce_time,
    parameter_server_saturation_workers,
    parameter_server_steps_per_s_ceiling,
)
from mlfleet.comm.cost.reduce_scatter import (
    recursive_halving_reduce_scatter_time,
    ring_reduce_scatter_time,
)

A, B = 2e-6, 50e9
LINK: dict[str, Any] = {"alpha_s": A, "bw_bytes_per_s": B}


def test_reduce_scatter_plus_allgather_is_the_ring_allreduce() -> None:
    s, g = 3e8, 1e-12
    rs = ring_reduce_scatter_time(16, s, gamma_s_per_byte=g, **LINK)
    ag = ring_allgather_time(16, s, **LINK)
    assert float(rs + ag) == pytest.approx(float(ring_allreduce_time(16, s, gamma_s_per_byte=g,
                                                                     **LINK)))


def test_allgather_and_reduce_scatter_hand_values() -> None:
    s = 8e6
    assert float(ring_allgather_time(8, s, **LINK)) == pytest.approx(7 * A + 7 / 8 * s / B)
    assert float(collective_time("allgather", "recursive_doubling", 8, s, **LINK)) == \
        pytest.approx(3 * A + 7 / 8 * s / B)
    assert float(recursive_halving_reduce_scatter_time(8, s, **LINK)) == pytest.approx(
        3 * A + 7 / 8 * s / B)
    # 6 ranks: fold 2 surplus ranks in (α + Sβ) and hand back their block (α + S/n β)
    assert float(recursive_halving_reduce_scatter_time(6, s, **LINK)) == pytest.approx(
        2 * A + 3 / 4 * s / B + 2 * A + s / B + s / 6 / B)


def test_alltoall_uniform_and_skewed() -> None:
    s = 64e6
    uniform = pairwise_alltoall_time(8, s, **LINK)
    assert float(uniform) == pytest.approx(7 * A + 7 / 8 * s / B)
    hot = pairwise_alltoall_time(8, s, skew=3.0, **LINK)
    assert float(hot) == pytest.approx(7 * A + 3 * 7 / 8 * s / B)
    assert float(bruck_alltoall_time(8, s, **LINK)) == pytest.approx(3 * (A + s / 2 / B))
    # Bruck wins tiny messages, pairwise large ones
    assert bruck_alltoall_time(64, 1e3, **LINK) < pairwise_alltoall_time(64, 1e3, **LINK)
    assert bruck_alltoall_time(64, 1e9, **LINK) > pairwise_alltoall_time(64, 1e9, **LINK)
    assert skew_from_loads([1, 1, 1, 5]) == pytest.approx(2.5)
    with pytest.raises(CommInputError, match="skew"):
        pairwise_alltoall_time(8, s, skew=0.5, **LINK)
    with pytest.raises(CommInputError, match="loads"):
        skew_from_loads([0, 0])


def test_broadcast_and_reduce_hand_values() -> None:
    s = 1e8
    assert float(binomial_broadcast_time(8, s, **LINK)) == pytest.approx(3 * (A + s / B))
    assert float(scatter_allgather_broadcast_time(8, s, **LINK)) == pytest.approx(
        (3 + 7) * A + 2 * 7 / 8 * s / B)
    # a long pipelined chain approaches S/B for large messages
    chain = pipelined_chain_broadcast_time(8, 1e11, **LINK)
    assert float(chain) == pytest.approx(1e11 / B, rel=0.01)
    for name in ALGORITHMS["reduce"]:
        assert float(collective_time("reduce", name, 8, s, **LINK)) >= s / B


def test_parameter_server_ceiling_versus_workers() -> None:
    g = 1e9
    # below saturation the workers' links bound the time; above it the server's
    assert parameter_server_saturation_workers(servers=4, worker_bw_bytes_per_s=B,
                                               server_bw_bytes_per_s=B) == 4
    t = parameter_server_allreduce_time(np.array([2, 4, 8, 64]), g, alpha_s=0.0,
                                        worker_bw_bytes_per_s=B, servers=4)
    assert np.allclose(t, [2 * g / B, 2 * g / B, 2 * 2 * g / B, 2 * 16 * g / B])
    steps = parameter_server_steps_per_s_ceiling(np.array([4, 64]), g, servers=4,
                                                 worker_bw_bytes_per_s=B, server_bw_bytes_per_s=B)
    assert steps[0] / steps[1] == pytest.approx(16)
    # one server, many workers: far slower than the ring
    assert float(collective_time("allreduce", "parameter_server", 64, g, **LINK)) > \
        10 * float(ring_allreduce_time(64, g, **LINK))


def test_bus_factors_follow_nccl_tests() -> None:
    assert float(bus_factor("allreduce", 8)) == pytest.approx(2 * 7 / 8)
    for name in ("allgather", "reduce_scatter", "alltoall"):
        assert float(bus_factor(name, 8)) == pytest.approx(7 / 8)
    for name in ("broadcast", "reduce"):
        assert float(bus_factor(name, 8)) == 1.0
    assert float(algbw_bytes_per_s(1e9, 0.1)) == pytest.approx(1e10)
    assert float(busbw_bytes_per_s("allreduce", 8, 1e9, 0.1)) == pytest.approx(1e10 * 1.75)
    with pytest.raises(CommInputError, match=r"collective\(='scan'\) is unknown"):
        bus_factor("scan", 8)


@settings(max_examples=40, deadline=None)
@given(collective=st.sampled_from(["allgather", "reduce_scatter", "alltoall", "broadcast",
                                   "reduce"]),
       n=st.integers(min_value=2, max_value=2048), s=st.floats(min_value=1.0, max_value=1e11))
def test_busbw_never_exceeds_the_link(collective: str, n: int, s: float) -> None:
    for name in ALGORITHMS[collective]:
        t = collective_time(collective, name, n, s, **LINK)
        assert float(busbw_bytes_per_s(collective, n, s, t)) <= B * (1 + 1e-9), name

"""DDP bucketing: closed form vs step simulation (error stated in docs/communication.md)."""

from __future__ import annotations

import numpy as np
import pytest
from comm_builders import make_cluster
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.comm import bucket as Bk
from mlfleet.comm import select as S
from mlfleet.comm import topology as T
from mlfleet.comm.cost import CommInputError
from mlfleet.comm.cost.allreduce import ring_allreduce_time


def ring_cost(alpha_s: float = 5e-6, bw: float = 25e9, n: int = 16) -> Bk.AllReduceCost:
    return lambda b: ring_allreduce_time(n, b, alpha_s=alpha_s, bw_bytes_per_s=bw)


def test_hand_example() -> None:
    # 4 buckets of 25 B over 1 s of backward, 0.1 s each: comm keeps up -> last bucket exposed
    cost: Bk.AllReduceCost = lambda b: 0.004 * np.asarray(b, dtype=float)  # noqa: E731
    assert float(Bk.exposed_comm_time(backward_s=1.0, grad_bytes=100, bucket_bytes=25,
                                      allreduce_s=cost)) == pytest.approx(0.1)
    # 0.4 s per bucket: stream-bound from the first bucket at 0.25 s: 0.25 + 4*0.4 - 1
    slow: Bk.AllReduceCost = lambda b: 0.016 * np.asarray(b, dtype=float)  # noqa: E731
    assert float(Bk.exposed_comm_time(backward_s=1.0, grad_bytes=100, bucket_bytes=25,
                                      allreduce_s=slow)) == pytest.approx(0.85)


@settings(max_examples=60, deadline=None)
@given(tensors=st.integers(min_value=1, max_value=300),
       backward_s=st.floats(min_value=1e-4, max_value=2.0),
       grad_bytes=st.floats(min_value=1e5, max_value=1e11),
       cap_fraction=st.floats(min_value=1e-4, max_value=1.5),
       alpha_s=st.floats(min_value=0.0, max_value=1e-4))
def test_closed_form_equals_simulation_for_equal_tensors(tensors: int, backward_s: float,
                                                         grad_bytes: float, cap_fraction: float,
                                                         alpha_s: float) -> None:
    cost = ring_cost(alpha_s=alpha_s)
    sizes, compute, _ = Bk.equal_tensors(grad_bytes, backward_s=backward_s, tensors=tensors)
    cap = cap_fraction * grad_bytes
    closed = Bk.exposed_comm_time(backward_s=backward_s, grad_bytes=grad_bytes,
                                  bucket_bytes=cap, allreduce_s=cost,
                                  **Bk.closed_form_shape(sizes))
    sim = Bk.simulate_buckets(layer_backward_s=compute, layer_grad_bytes=sizes,
                              bucket_bytes=cap, allreduce_s=cost)
    assert float(closed) == pytest.approx(sim.exposed_s, rel=1e-6, abs=1e-12)


def test_decoder_tensors_match_the_catalog_parameter_count() -> None:
    params, matmul = Bk.transformer_gradient_tensors(layers=32, d_model=4096, d_ff=14336,
                                                     n_heads=32, n_kv_heads=8, vocab=128256)
    assert params.sum() == 8030261248  # Llama 3 8B, as published
    assert params[-1] == 128256 * 4096 and matmul[-1] == 0  # the embedding comes last


@pytest.mark.parametrize("ranks, backward_s", [(16, 0.05), (256, 0.3), (1024, 1.0)])
def test_closed_form_within_15_percent_of_simulating_a_real_decoder(ranks: int,
                                                                    backward_s: float) -> None:
    topo = T.from_cluster(make_cluster(oversubscription=1.0), ranks=ranks, nodes_per_leaf=32)
    cost: Bk.AllReduceCost = lambda b: S.best_allreduce_time(topo, b)  # noqa: E731
    params, matmul = Bk.transformer_gradient_tensors(layers=32, d_model=4096, d_ff=14336,
                                                     n_heads=32, n_kv_heads=8, vocab=128256)
    sizes, compute = params * 2, backward_s * matmul / matmul.sum()
    grad = float(sizes.sum())
    caps = Bk.candidate_bucket_sizes(grad, min_bytes=2**20)
    closed = Bk.exposed_comm_time(backward_s=backward_s, grad_bytes=grad, bucket_bytes=caps,
                                  allreduce_s=cost, **Bk.closed_form_shape(sizes))
    sim = np.array([Bk.simulate_buckets(layer_backward_s=compute, layer_grad_bytes=sizes,
                                        bucket_bytes=float(c), allreduce_s=cost).exposed_s
                    for c in caps])
    scale = float(cost(np.asarray(grad)))  # the time there is to hide
    assert np.max(np.abs(closed - sim)) / scale < 0.15


def test_small_buckets_pay_latency_and_big_ones_start_late() -> None:
    cost = ring_cost()
    caps = Bk.candidate_bucket_sizes(4e9)
    exposed = Bk.exposed_comm_time(backward_s=0.5, grad_bytes=4e9, bucket_bytes=caps,
                                   allreduce_s=cost)
    best = int(np.argmin(exposed))
    assert 0 < best < len(caps) - 1
    best_b, best_s = Bk.best_bucket_size(backward_s=0.5, grad_bytes=4e9, allreduce_s=cost)
    assert best_s == pytest.approx(float(exposed.min()))
    assert best_s >= float(cost(np.asarray(caps[best] * 0)))  # never below one latency


def test_ddp_packing_and_first_bucket() -> None:
    buckets = Bk.pack_buckets([3, 3, 3, 3, 3], bucket_bytes=5, first_bucket_bytes=2)
    assert buckets == [[0], [1, 2], [3, 4]]
    with pytest.raises(CommInputError, match="equal-length"):
        Bk.simulate_buckets(layer_backward_s=[1.0], layer_grad_bytes=[1.0, 2.0],
                            bucket_bytes=1.0, allreduce_s=ring_cost())
    with pytest.raises(CommInputError, match="bucket_bytes"):
        Bk.exposed_comm_time(backward_s=1.0, grad_bytes=1.0, bucket_bytes=0.0,
                             allreduce_s=ring_cost())

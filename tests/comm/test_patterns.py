"""Model-specific collective patterns, each checked against an explicit message schedule."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlfleet.catalog.types import Workload
from mlfleet.comm import patterns as P
from mlfleet.comm.algorithms.alltoall import predicted_bytes_alltoall_pairwise
from mlfleet.comm.algorithms.ring import predicted_bytes_allreduce_ring
from mlfleet.comm.cost import CommInputError


def workload(**overrides: Any) -> Workload:
    fields: dict[str, Any] = {"name": "w", "family": "llm", "unit": "token", "params": 1e9,
                                 "active_params": 1e9, "fwd_flop": 1.0, "bwd_flop": 2.0,
                                 "shape": {}}
    fields.update(overrides)
    return Workload(**fields)


def test_dense_gradient_buffer_is_what_the_ring_allreduce_moves() -> None:
    """The AllReduce buffer (Ψ·b) through the real ring's byte accounting: each rank sends
    2(n−1)/n of it, the bandwidth term every AllReduce cost model uses."""
    n, params, grad_bytes = 8, 8000, 2
    buffer_bytes = P.pattern_for(workload(params=params), n_gpus=n).primary_bytes
    sent = predicted_bytes_allreduce_ring(n, int(buffer_bytes) // grad_bytes, grad_bytes)
    assert [sum(row.values()) for row in sent] == [2 * (n - 1) * buffer_bytes / n] * n


def test_moe_alltoall_bytes_equal_an_explicit_routing_schedule() -> None:
    """Route every token to top_k experts (one expert per GPU), then count the bytes of every
    dispatch and combine message, forward and backward, on every layer; the real pairwise
    AlltoAll puts the (E−1)/E of them that leave the GPU on the wire."""
    experts, top_k, tokens, d_model, layers, b = 8, 2, 64, 16, 3, 2
    shape = {"experts": experts, "experts_per_token": top_k, "d_model": d_model,
             "layers": layers, "seq_len": tokens}
    pattern = P.pattern_for(workload(family="moe", params=47e9, active_params=13e9,
                                     shape=shape), tokens_per_gpu=tokens, value_bytes=b)
    # counts[g][e]: values GPU g dispatches to expert e in one layer's forward pass
    counts = [[0] * experts for _ in range(experts)]
    for g in range(experts):
        for t in range(tokens):
            for j in range(top_k):
                counts[g][(g + t + j) % experts] += d_model
    messages_per_value = 2 * layers * 2  # dispatch + combine, every layer, fwd + bwd
    handed = sum(counts[0]) * b * messages_per_value
    assert pattern.primary == "alltoall" and pattern.primary_bytes == handed
    wire = predicted_bytes_alltoall_pairwise(experts, 0, b, counts=counts)
    assert sum(wire[0].values()) * messages_per_value == handed * (experts - 1) / experts


def test_moe_secondary_allreduce_recovers_the_shared_parameters() -> None:
    """A model built from S shared parameters and E experts of X each (total S + E·X, active
    S + k·X): the non-expert AllReduce must be exactly S parameters."""
    shared, expert, experts, top_k, b = 1.5e9, 0.6e9, 8, 2, 2
    w = workload(family="moe", params=shared + experts * expert,
                 active_params=shared + top_k * expert,
                 shape={"experts": experts, "experts_per_token": top_k, "d_model": 4096,
                        "layers": 32, "seq_len": 4096})
    assert P.pattern_for(w, value_bytes=b).secondary_bytes == pytest.approx(shared * b)


def test_recsys_alltoall_bytes_equal_an_explicit_table_wise_schedule() -> None:
    """Tables sharded table-wise over n GPUs; forward, each table's owner sends one pooled
    vector per sample to the sample's GPU; backward, the gradient goes back. Count what
    GPU 0 sends."""
    n, samples, tables, dim, b = 4, 32, 12, 8, 4  # tables divisible by n: balanced shards
    w = workload(family="recsys", params=1e6, shape={"tables": tables, "embedding_dim": dim})
    pattern = P.pattern_for(w, n_gpus=n, samples_per_gpu=samples, value_bytes=b)
    sent = 0
    for gpu in range(n):
        for _sample in range(samples):
            for table in range(tables):
                owner = table % n
                sent += dim * b if owner == 0 else 0  # forward: pooled vector owner -> gpu
                sent += dim * b if gpu == 0 else 0  # backward: gradient gpu -> owner
    assert pattern.primary == "alltoall" and pattern.primary_bytes == sent


def test_gnn_neighbour_bytes_match_sampled_trees_on_a_random_partition() -> None:
    """Enumerate every seed's sampled computation tree, place each sampled node on one of
    n GPUs at random (seeded) and count the features GPU 0 must fetch from the others.
    The model's (n−1)/n remote fraction is an expectation: 1% tolerance is > 7 standard
    deviations for 170k placements."""
    n, seeds, fanouts, features, b = 4, 1024, (15, 10), 100, 2
    nodes_per_seed = 1
    frontier = 1
    for f in fanouts:
        frontier *= f
        nodes_per_seed += frontier
    assert P.sampled_nodes_per_seed(list(fanouts)) == nodes_per_seed
    w = workload(family="gnn", params=2e5, shape={"fanout_1": fanouts[0],
                                                  "fanout_2": fanouts[1],
                                                  "in_features": features})
    pattern = P.pattern_for(w, n_gpus=n, samples_per_gpu=seeds, value_bytes=b)
    placement = np.random.default_rng(7).integers(0, n, size=seeds * nodes_per_seed)
    fetched = int(np.count_nonzero(placement != 0)) * features * b
    assert pattern.primary == "neighbour_exchange"
    assert pattern.primary_bytes == pytest.approx(fetched, rel=0.01)


def test_invalid_pattern_inputs_name_the_value() -> None:
    with pytest.raises(CommInputError, match="remote_fraction"):
        P.gnn_neighbour_bytes(seeds=1, fanouts=[1], feature_dim=1, value_bytes=1,
                              remote_fraction=2.0)
    with pytest.raises(CommInputError, match="shape.experts"):
        P.pattern_for(workload(family="moe"))


def test_catalog_table_reproduces_the_spec() -> None:
    rows = {p.family: p for p in P.model_patterns()}
    expected = {"llm": "allreduce", "vision": "allreduce", "recsys": "alltoall",
                "moe": "alltoall", "gnn": "neighbour_exchange"}
    for family, primary in expected.items():
        assert rows[family].primary == primary, family
    assert P.volume_class(rows["llm"].primary_bytes) == "High"

"""Model-specific collective patterns."""

from __future__ import annotations

import pytest

from mlfleet.catalog.types import Workload
from mlfleet.comm import patterns as P
from mlfleet.comm.cost import CommInputError


def workload(**overrides: object) -> Workload:
    fields: dict[str, object] = {"name": "w", "family": "llm", "unit": "token", "params": 1e9,
                                 "active_params": 1e9, "fwd_flop": 1.0, "bwd_flop": 2.0,
                                 "shape": {}}
    fields.update(overrides)
    return Workload(**fields)  # type: ignore[arg-type]


def test_formulas() -> None:
    assert P.dense_gradient_bytes(1e9, grad_bytes=2) == 2e9
    assert P.moe_alltoall_bytes(tokens=4096, d_model=4096, top_k=2, moe_layers=32,
                                value_bytes=2) == 4096 * 4096 * 2 * 2 * 32 * 2 * 2
    assert P.recsys_alltoall_bytes(samples=1024, tables=26, embedding_dim=128, value_bytes=4,
                                   include_backward=False) == 1024 * 26 * 128 * 4
    assert P.sampled_nodes_per_seed([15, 10, 5]) == 1 + 15 + 150 + 750
    assert P.gnn_neighbour_bytes(seeds=10, fanouts=[2], feature_dim=100, value_bytes=4,
                                 remote_fraction=0.5) == 10 * 3 * 100 * 4 * 0.5
    with pytest.raises(CommInputError, match="remote_fraction"):
        P.gnn_neighbour_bytes(seeds=1, fanouts=[1], feature_dim=1, value_bytes=1,
                              remote_fraction=2.0)


def test_patterns_per_family() -> None:
    dense = P.pattern_for(workload())
    assert (dense.primary, dense.primary_bytes) == ("allreduce", 2e9)
    moe = P.pattern_for(workload(family="moe", params=47e9, active_params=13e9, shape={
        "experts": 8, "experts_per_token": 2, "d_model": 4096, "layers": 32, "seq_len": 4096}))
    assert moe.primary == "alltoall"
    assert moe.primary_bytes == P.moe_alltoall_bytes(tokens=4096, d_model=4096, top_k=2,
                                                     moe_layers=32, value_bytes=2)
    # non-expert params: Ψ - (Ψ - Ψ_active)/(1 - k/E) = 47 - 34/0.75 ≈ 1.67B
    assert moe.secondary_bytes == pytest.approx((47e9 - 34e9 / 0.75) * 2)
    gnn = P.pattern_for(workload(family="gnn", params=2e5, shape={
        "fanout_1": 15, "fanout_2": 10, "in_features": 100}), n_gpus=4)
    assert gnn.primary == "neighbour_exchange"
    assert gnn.primary_bytes == pytest.approx(1024 * 166 * 100 * 2 * 0.75)
    with pytest.raises(CommInputError, match="shape.experts"):
        P.pattern_for(workload(family="moe"))


def test_catalog_table_reproduces_the_spec() -> None:
    rows = {p.family: p for p in P.model_patterns()}
    expected = {"llm": "allreduce", "vision": "allreduce", "recsys": "alltoall",
                "moe": "alltoall", "gnn": "neighbour_exchange"}
    for family, primary in expected.items():
        assert rows[family].primary == primary, family
    assert P.volume_class(rows["llm"].primary_bytes) == "High"

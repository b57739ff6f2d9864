"""The scaling fallacy: efficiency falls with GPU count and the balanced size is finite."""

from __future__ import annotations

import pytest

from mlfleet.errors import InputError
from mlfleet.infra.tco.scaling import powers_of_two, scaling

ARGS = {"workload": "Llama-3-8B", "cluster": "H100-16k-fat-tree", "usd_per_gpu_h": 2.0}


def test_efficiency_falls_and_cost_rises_with_gpus() -> None:
    s = scaling(gpus=powers_of_two(16384), **ARGS)  # type: ignore[arg-type]
    eff = [p.efficiency for p in s.points]
    cost = [p.cost_usd for p in s.points]
    time = [p.time_to_train_s for p in s.points]
    assert eff[0] == 1.0
    assert all(b < a for a, b in zip(eff[1:], eff[2:], strict=False))
    assert all(b > a for a, b in zip(cost, cost[1:], strict=False))
    assert all(b < a for a, b in zip(time, time[1:], strict=False))  # faster, never cheaper
    assert eff[-1] < 0.3  # 16,384 GPUs: most of each step is the AllReduce
    assert s.cheapest_gpus == 1
    assert 1 < s.knee_gpus < 16384


def test_balanced_size_is_where_compute_equals_communication() -> None:
    # cost x time ~ (C + A n)^2 / n is smallest at n* = C / A. A (the AllReduce) barely
    # moves with n, so iterate n = C / A(n); then find the minimum on a dense sweep.
    one = scaling(gpus=[1], **ARGS).points[0]  # type: ignore[arg-type]
    n_star = 4096.0
    for _ in range(5):
        comm_s = scaling(gpus=[round(n_star)], **ARGS).points[0].comm_s  # type: ignore[arg-type]
        n_star = one.compute_s / comm_s
    dense = scaling(gpus=list(range(2048, 16385, 64)), **ARGS)  # type: ignore[arg-type]
    assert dense.balanced_gpus == pytest.approx(n_star, abs=64)
    point = next(p for p in dense.points if p.gpus == dense.balanced_gpus)
    assert point.efficiency == pytest.approx(0.5, abs=0.01)
    assert dense.balanced_gpus < 16384  # finite: well inside the cluster


def test_overlap_moves_the_knee_out() -> None:
    sizes = powers_of_two(16384)
    hidden = scaling(gpus=sizes, overlap=0.9, **ARGS)  # type: ignore[arg-type]
    exposed = scaling(gpus=sizes, **ARGS)  # type: ignore[arg-type]
    assert hidden.knee_gpus > exposed.knee_gpus


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"gpus": [32768]}, "gpus(=32768) must be between 1 and the 16,384 GPUs"),
    ({"gpus": [8], "mfu": 0.0}, "mfu(=0)"),
    ({"gpus": [8], "overlap": 1.5}, "overlap(=1.5)"),
    ({"gpus": [0]}, "gpus(=0)"),
])
def test_bad_input(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        scaling(**{**ARGS, **kwargs})  # type: ignore[arg-type]
    assert fragment in str(info.value)

"""The Python API: strict-JSON ``to_dict()``, Arrow tables, and the models' own numbers."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet import api
from mlfleet.errors import InputError
from mlfleet.infra.roofline import Device
from mlfleet.reliability import checkpoint_interval as ci
from mlfleet.results import Result, TableResult
from mlfleet.serving.models import queueing
from mlfleet.sweep.points import serving_point


def strict(result: Result) -> dict[str, Any]:
    """``result.to_dict()`` after a round trip through strict JSON."""
    loaded: dict[str, Any] = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    return loaded


def arrow_rows(result: TableResult) -> int:
    table = result.to_arrow()
    assert table.column_names == list(result.rows()[0])
    return int(table.num_rows)


def test_plan_round_trips_every_chapter() -> None:
    result = api.plan("examples/llm-pretraining.yaml")
    doc = strict(result)
    assert doc["plan"]["scenario"] == result.plan["scenario"]
    assert {"infrastructure", "communication", "serving", "checks"} <= set(doc["plan"])
    assert doc["violated"] == list(result.violated)


def test_roofline_gemm_is_the_roofline_by_hand() -> None:
    result = api.roofline_gemm(m=[1, 8192], n=8192, k=8192, accelerator="H100", precision="bf16")
    device = Device.from_accelerator("H100", "bf16")
    for row, m in zip(result.rows(), (1, 8192), strict=True):
        flop = 2.0 * m * 8192 * 8192
        mem = 2.0 * (m * 8192 + 8192 * 8192 + m * 8192)  # read A and B, write C (bf16)
        expected = max(flop / device.peak_flops_per_s, mem / device.mem_bw_bytes_per_s)
        assert row["time_s"] == pytest.approx(expected, rel=1e-12)
    assert [r["bound"] for r in result.rows()] == ["memory", "compute"]
    assert strict(result)["points"][1]["m"] == 8192
    assert arrow_rows(result) == 2


def test_allreduce_rows_and_best_per_size() -> None:
    sizes = [1e3, 1e6, 1e9]
    result = api.allreduce(cluster="H100-1k-fat-tree", ranks=64, sizes_bytes=sizes)
    doc = strict(result)
    assert doc["sizes_bytes"] == sizes and doc["ranks"] == 64
    for i, best in enumerate(result.best):
        assert result.times_s[best][i] == min(t[i] for t in result.times_s.values())
    assert arrow_rows(result) == len(sizes) * len(result.times_s)


def test_serving_step_broadcasts_and_grows_with_batch() -> None:
    result = api.serving_step(workload="Llama-3-8B", accelerator="H100", batch=[1, 16, 128],
                              context_len=2048)
    times = [r["time_s"] for r in result.rows()]
    assert times == sorted(times) and times[0] > 0
    assert strict(result)["points"][2]["batch"] == 128
    assert arrow_rows(result) == 3


def test_mmc_is_erlang_c() -> None:
    result = api.mmc(servers=4, arrival_rate_per_s=3.0, service_time_s=1.0, p99_wait_s=0.5)
    assert result.summary.wait_probability == pytest.approx(float(queueing.erlang_c(4, 3.0, 1.0)),
                                                    rel=1e-12)
    assert result.servers_for_p99_wait_s == queueing.servers_for_wait(3.0, 1.0, wait_s=0.5)
    assert strict(result)["summary"]["utilization"] == pytest.approx(0.75)


def test_checkpoint_is_young_and_daly() -> None:
    result = api.checkpoint(ckpt_s=60.0, mtbf_s=4 * 3600.0, restart_s=300.0,
                            intervals_s=[600.0, 1200.0, 2400.0])
    assert result.young_interval_s == math.sqrt(2 * 60.0 * 4 * 3600.0)
    assert result.daly_interval_s == ci.daly_interval_s(ckpt_s=60.0, mtbf_s=4 * 3600.0)
    assert all(r["goodput"] <= result.daly_goodput for r in result.rows())  # Daly's optimum
    assert strict(result)["curve"][0]["interval_s"] == 600.0
    assert arrow_rows(result) == 3


def test_cluster_schedule_has_a_row_per_job() -> None:
    result = api.cluster_schedule(policy="fifo")
    doc = strict(result)
    assert doc["metrics"]["jobs"] == len(result.jobs) == arrow_rows(result)
    assert doc["metrics"]["finished"] == sum(j["jct_s"] is not None for j in doc["jobs"])


def test_sweep_rows_follow_the_grid() -> None:
    result = api.sweep("examples/llm-pretraining.yaml",
                       ["cluster.gpus=1024,2048", "training.zero_stage=0,3"])
    doc = strict(result)
    assert [r["cluster.gpus"] for r in result.rows()] == [1024, 1024, 2048, 2048]
    assert doc["units"]["mfu"] == result.units["mfu"]
    assert arrow_rows(result) == 4


def test_sweep_points_table_without_ray() -> None:
    points = [{"qps": 1.0, "requests": 200}, {"qps": 2.0, "requests": 200}]
    result = api.SweepPoints(func="mlfleet.sweep.points:serving_point", points=tuple(points),
                             results=tuple(serving_point(p) for p in points))
    assert strict(result)["results"][1]["completed"] == 200
    assert result.to_arrow().column("qps").to_pylist() == [1.0, 2.0]


def test_non_finite_values_become_null_with_a_reason() -> None:
    result = api.Checkpointing(young_interval_s=1.0, daly_interval_s=math.inf, daly_goodput=0.5,
                               curve=({"interval_s": 1.0, "goodput": math.nan},))
    doc = strict(result)
    assert doc["daly_interval_s"] is None and "daly_interval_s_null_reason" in doc
    assert result.to_arrow().column("goodput").null_count == 1


def test_bad_input_is_an_input_error() -> None:
    with pytest.raises(InputError):
        api.mmc(servers=0, arrival_rate_per_s=1.0, service_time_s=1.0)
    with pytest.raises(InputError):
        api.allreduce(cluster="no-such-cluster", ranks=8, sizes_bytes=[1.0])


@settings(max_examples=25, deadline=None)
@given(m=st.lists(st.integers(1, 1 << 16), min_size=1, max_size=6),
       k=st.integers(1, 1 << 14))
def test_roofline_rows_match_the_broadcast_shape(m: list[int], k: int) -> None:
    result = api.roofline_gemm(m=np.array(m), n=k, k=k, accelerator="A100")
    assert [r["m"] for r in result.rows()] == m
    assert len(strict(result)["points"]) == len(m)

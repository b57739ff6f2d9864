"""plan_serving: replicas and batching for an SLO (the serving section of mlfleet plan)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlfleet.catalog.types import Accelerator, Workload
from mlfleet.errors import ServingInputError
from mlfleet.serving.models import queueing as q
from mlfleet.serving.models.capacity import plan_serving


def plan(workload: str = "DLRM-DCNv2", **overrides: Any) -> dict[str, Any]:
    """Builder: the bundled recsys-serving example's numbers, with overrides."""
    args: dict[str, Any] = {
        "workload": Workload.from_name(workload), "accelerator": Accelerator.from_name("H100"),
        "gpus": 16, "gpus_per_node": 8, "qps": 50e3, "peak_to_mean": 2.0,
        "prompt_tokens": None, "output_tokens": None, "items_per_request": 64,
        "precision": "fp16", "p99_s": 0.01, "ttft_p99_s": None, "tpot_p99_s": None}
    return plan_serving(**{**args, **overrides})


def llm_plan(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"qps": 20.0, "prompt_tokens": 1000, "output_tokens": 300,
                            "items_per_request": 1, "precision": "bf16", "p99_s": 20.0,
                            "ttft_p99_s": 1.0, "tpot_p99_s": 0.05, "gpus": 64}
    return plan("Llama-3-70B", **{**args, **overrides})


def test_recsys_plan_is_a_json_ready_section() -> None:
    out = plan()
    json.dumps(out)
    assert out["status"] == "ok" and out["fidelity"] == "model"
    n = out["numbers"]
    assert n["slo_met"] and n["p99_s"] <= 0.01 and n["peak_qps"] == 100e3
    assert n["gpus_needed"] == n["replicas"] * n["gpus_per_replica"]
    assert n["fits"] == (n["gpus_needed"] <= 16)
    assert 0 < n["utilization_peak"] < 1
    assert n["utilization_mean"] == pytest.approx(n["utilization_peak"] / 2)
    assert out["details"]["batching"]["policy"] == "feature batching"
    assert out["recommendation"] and out["reasoning"]


def test_more_traffic_needs_at_least_as_many_gpus() -> None:
    low = plan(qps=10e3)["numbers"]["gpus_needed"]
    high = plan(qps=200e3)["numbers"]["gpus_needed"]
    assert high >= low


def test_llm_plan_meets_its_targets_with_erlang_c() -> None:
    out = llm_plan()
    n = out["numbers"]
    assert n["slo_met"] and n["tpot_s"] <= 0.05 and n["ttft_p99_s"] <= 1.0
    assert n["p99_s"] <= 20.0 and n["gpus_per_replica"] == n["tensor_parallel"]
    assert n["max_batch_sequences"] <= n["kv_max_batch_sequences"]
    slots = n["replicas"] * n["max_batch_sequences"]
    # the plan's utilisation is the M/M/c one over the slots
    assert n["utilization_peak"] == pytest.approx(40.0 * n["service_time_s"] / slots)
    assert float(q.erlang_c(slots, 40.0, 1 / n["service_time_s"])) <= 1.0
    assert out["details"]["batching"]["policy"] == "continuous"


def test_unmeetable_tpot_is_reported_not_raised() -> None:
    out = llm_plan(tpot_p99_s=1e-4)
    assert not out["numbers"]["slo_met"]
    assert any("TPOT target" in line for line in out["reasoning"])


def test_not_enough_gpus_is_reported() -> None:
    out = llm_plan(qps=500.0, gpus=8)
    assert not out["numbers"]["fits"] and out["numbers"]["headroom_gpus"] < 0
    assert any("add" in line for line in out["reasoning"])


@pytest.mark.parametrize("workload", ["ResNet-50", "ViT-L-16", "Whisper-large",
                                      "GraphSAGE-products"])
def test_other_families_plan(workload: str) -> None:
    out = plan(workload, items_per_request=1, qps=500.0, p99_s=0.5, precision="bf16")
    assert out["numbers"]["replicas"] >= 1 and out["bottleneck"]


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"prompt_tokens": None}, "prompt_tokens"),
    ({"qps": -1.0}, "qps(=-1)"),
    ({"precision": "fp4"}, "precision(='fp4') is unknown"),
])
def test_bad_input(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ServingInputError) as info:
        llm_plan(**overrides)
    assert fragment in str(info.value)

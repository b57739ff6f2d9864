"""plan_serving: replicas and batching for an SLO (the serving section of mlfleet plan)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from mlfleet.catalog.types import Accelerator, Workload
from mlfleet.errors import ServingInputError
from mlfleet.serving.models.capacity import plan_serving


def plan(workload: str = "DLRM-DCNv2", **overrides: Any) -> dict[str, Any]:
    """Builder: the bundled recsys-serving example's numbers, with overrides."""
    args: dict[str, Any] = {
        "workload": Workload.from_name(workload), "accelerator": Accelerator.from_name("H100"),
        "gpus": 16, "gpus_per_node": 8, "qps": 50e3, "peak_to_mean": 2.0,
        "prompt_tokens": None, "output_tokens": None, "items_per_request": 64,
        "precision": "fp16", "p99_s": 0.01, "ttft_p99_s": None, "tpot_p99_s": None}
    out: dict[str, Any] = plan_serving(**{**args, **overrides})
    return out


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


def test_llm_plan_meets_its_targets() -> None:
    out = llm_plan()
    n = out["numbers"]
    assert n["slo_met"] and n["tpot_s"] <= 0.05 and n["ttft_p99_s"] <= 1.0
    assert n["p99_s"] <= 20.0 and n["gpus_per_replica"] == n["tensor_parallel"]
    assert n["max_batch_sequences"] <= n["kv_max_batch_sequences"]
    assert out["details"]["batching"]["policy"] == "continuous"


def test_llm_kv_capacity_matches_the_published_shapes() -> None:
    """KV sequences per replica, by hand from Llama 3's published shape (Meta 2024, "The
    Llama 3 Herd of Models", Table 3: 80 layers, 8 KV heads of 128 dims, 70.6B params) and
    the H100 SXM's 80 GB of HBM (NVIDIA datasheet), with vLLM's defaults (90% of HBM,
    16-token blocks), at the tp=4 the plan chose and 1000 + 300 tokens per sequence."""
    n = llm_plan()["numbers"]
    tp, tokens, block = 4, 1300, 16
    assert n["tensor_parallel"] == tp
    kv_bytes_per_token_per_gpu = 2 * 80 * 8 * 128 * 2 / tp  # K and V, bf16
    budget_bytes = 0.9 * 80e9 - 70.55e9 * 2 / tp
    blocks = budget_bytes // (kv_bytes_per_token_per_gpu * block)
    assert n["kv_max_batch_sequences"] == blocks // math.ceil(tokens / block) == 341


def simulate_batched_latency_s(*, peak_qps: float, replicas: int, batch: int, batch_s: float,
                               requests: int, seed: int) -> np.ndarray:
    """Latencies of the fleet the recsys plan describes, simulated request by request.

    Poisson arrivals dealt round-robin to the replicas; each replica runs a batch when
    ``batch`` requests have arrived, one at a time, each taking exactly ``batch_s``.
    """
    arrivals_s = np.cumsum(np.random.default_rng(seed).exponential(1 / peak_qps, requests))
    latencies = []
    for replica in range(replicas):
        mine = arrivals_s[replica::replicas]
        groups = mine[: len(mine) // batch * batch].reshape(-1, batch)  # (batches, batch)
        finish_s, free_s = np.empty(len(groups)), 0.0
        for i, ready_s in enumerate(groups[:, -1]):
            free_s = max(ready_s, free_s) + batch_s
            finish_s[i] = free_s
        latencies.append((finish_s[:, None] - groups).ravel())
    return np.concatenate(latencies)


@pytest.mark.parametrize("qps", [10e3, 50e3, 200e3])
def test_recsys_latency_matches_a_simulation_of_the_planned_fleet(qps: float) -> None:
    """The plan's p50 (fill + wait + batch time) is the simulated median within 5%; its
    p99 adds an M/M/c wait and the 99th percentiles of fill and wait, so it is an upper
    bound: 1.5x, 1.5x and 2.1x the simulated p99 at these rates (batch time exact)."""
    n = plan(qps=qps)["numbers"]
    latency_s = simulate_batched_latency_s(
        peak_qps=n["peak_qps"], replicas=n["replicas"], batch=n["max_batch_requests"],
        batch_s=n["batch_time_s"], requests=400_000, seed=1)
    p50_s, p99_s = np.quantile(latency_s, [0.5, 0.99])
    assert n["p50_s"] == pytest.approx(p50_s, rel=0.05)
    assert p99_s <= n["p99_s"] <= 2.5 * p99_s


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


def test_no_gpu_count_is_an_unbounded_pool_with_null_fit() -> None:
    """Issue 10 item 15: the CLI's default of 10**6 GPUs printed a fake headroom."""
    out = plan(gpus=None)
    assert {k: out["numbers"][k] for k in ("gpus_available", "fits", "headroom_gpus")} == \
        {"gpus_available": None, "fits": None, "headroom_gpus": None}
    assert out["unmet"] == [] and out["numbers"]["gpus_needed"] >= 1


def test_each_unreachable_target_that_was_set_is_named_and_no_other() -> None:
    out = llm_plan(ttft_p99_s=1e-6, tpot_p99_s=None, p99_s=None)
    assert not out["numbers"]["slo_met"]
    (line,) = out["unmet"]
    assert line.startswith("TTFT target 1 µs cannot be met at any replica count")
    both = llm_plan(ttft_p99_s=1e-6, tpot_p99_s=1e-6, p99_s=None)
    assert [u.split()[0] for u in both["unmet"]] == ["TPOT", "TTFT"]
    assert llm_plan()["unmet"] == []

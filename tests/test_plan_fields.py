"""Every scenario field is honoured or refused: changing it changes the plan, or the plan
lists it under ``unused_fields`` (and then changing it changes nothing else)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlfleet.plan import build_plan
from mlfleet.plan.fields import DECLARED_STATE
from mlfleet.scenario import parse_scenario, scenario_json_schema
from mlfleet.scenario.fields import field_paths

EXAMPLES = Path(__file__).parents[1] / "examples"

LLM_SERVING: dict[str, Any] = {
    "name": "llm-serving", "workload": "Llama-3-70B",
    "cluster": {"name": "H100-1k-fat-tree", "gpus": 16},
    "serving": {"qps": 5, "prompt_tokens": 1000, "output_tokens": 300,
                "slo": {"ttft_p99_s": 1.0, "tpot_p99_s": 0.05}},
}

MOE_TRAINING: dict[str, Any] = {
    "name": "moe-training", "workload": "Mixtral-8x7B",
    "cluster": {"name": "H100-1k-fat-tree", "gpus": 64},
    "training": {"global_batch_tokens": 4 * 2**20, "seq_len": 4096, "total_tokens": 10**12,
                 "parallelism": {"data": 64}},
}

# field -> (base scenario, overrides applied to the base first, value a, value b)
Change = tuple[str, dict[str, Any], Any, Any]
L, V, R, S, M = "llm-pretraining", "vision-training", "recsys-serving", "llm-serving", "moe"
INLINE = {S: LLM_SERVING, M: MOE_TRAINING}
NO_SAMPLES = {"storage.dataset_samples": None}
CHANGES: dict[str, Change] = {
    "name": (L, {}, "a", "b"),
    "description": (L, {}, "one", "two"),
    "workload": (L, {}, "Llama-3-405B", "Llama-3-70B"),
    "cluster.name": (V, {"scheduling": None}, "DGX-H100", "H100-1k-fat-tree"),
    "cluster.accelerator": (V, {}, "H100-SXM", "H200"),
    "cluster.gpus": (R, {}, 16, 24),
    "cluster.gpus_per_node": (R, {}, 8, 4),
    "cluster.scaleup": (V, {}, "NVSwitch", "PCIe4-x16"),
    "cluster.scaleout": (L, {}, "IB-NDR", "RoCE-100G"),
    "cluster.rails_per_node": (R, {}, 1, 8),
    "cluster.oversubscription": (L, {}, 1.0, 4.0),
    "training.global_batch_tokens": (L, {}, 16 * 2**20, 8 * 2**20),
    "training.global_batch_samples": (V, {}, 1024, 2048),
    "training.seq_len": (L, {}, 8192, 4096),
    "training.precision": (L, {}, "bf16", "fp8"),
    "training.parallelism.data": (L, {"training.parallelism.pipeline": None}, 128, 256),
    "training.parallelism.tensor": (L, {"training.parallelism.pipeline": None}, 8, 4),
    "training.parallelism.pipeline": (L, {"training.parallelism.data": None}, 16, 8),
    "training.parallelism.expert": (M, {}, 2, 8),
    "training.zero_stage": (L, {}, 0, 3),
    "training.total_tokens": (L, {}, 15.6e12, 10e12),
    "training.total_samples": (L, {"training.total_tokens": None}, 10**9, 2 * 10**9),
    "training.epochs": (V, {}, 90, 45),
    "training.duration_s": (L, {}, 90 * 86400, 30 * 86400),
    "training.mfu": (L, {}, 0.4, 0.5),
    "serving.qps": (R, {}, 50_000, 25_000),
    "serving.peak_to_mean": (R, {}, 2, 3),
    "serving.prompt_tokens": (S, {}, 1000, 500),
    "serving.output_tokens": (S, {}, 300, 100),
    "serving.items_per_request": (R, {}, 64, 32),
    "serving.request_bytes": (R, {}, 10_000, 20_000),
    "serving.response_bytes": (R, {}, 256, 100_000_000),
    "serving.precision": (R, {}, "fp16", "fp8"),
    "serving.slo.p50_s": (R, {}, 0.005, 0.004),
    "serving.slo.p99_s": (R, {}, 0.010, 0.020),
    "serving.slo.ttft_p99_s": (S, {}, 1.0, 2.0),
    "serving.slo.tpot_p99_s": (S, {}, 0.05, 0.1),
    "serving.slo.availability": (R, {}, 0.999, 0.99),
    "storage.dataset_bytes": (V, NO_SAMPLES, 150e9, 100e9),
    "storage.sample_bytes": (V, NO_SAMPLES, 110e3, 55e3),
    "storage.dataset_samples": (V, {}, 1281167, 640000),
    "storage.medium": (V, {}, "parallel-fs", "HDD"),
    "storage.checkpoint_every_s": (L, {}, 3600, 7200),
    "prices.electricity_usd_per_kwh": (L, {}, 0.10, 0.20),
    "scheduling.shared_gpus": (V, {}, 256, 64),
    "scheduling.policy": (V, {}, "tiresias", "fifo"),
    "scheduling.load": (V, {}, 0.8, 0.5),
    "prices.pue": (L, {}, 1.2, 1.5),
    "prices.cloud_usd_per_gpu_h": (L, {}, 2.5, 3.0),
    "prices.purchase_usd_per_gpu": (L, {"prices.amortization_s": 4 * 365 * 86400}, 30e3, 40e3),
    "prices.amortization_s": (L, {"prices.purchase_usd_per_gpu": 30e3}, 4 * 365 * 86400,
                              3 * 365 * 86400),
    "constraints.max_cost_usd": (V, {}, 1000, 2000),
    "constraints.max_step_time_s": (L, {}, 100, 200),
    "constraints.max_training_time_s": (L, {}, 90 * 86400, 100 * 86400),
    "constraints.min_goodput": (L, {}, 0.9, 0.8),
    "constraints.max_power_w": (L, {}, 30e6, 40e6),
    # the operations section (the recsys example's ops: portfolio)
    "ops.models": (R, {}, 40, 60),
    "ops.teams": (R, {}, {"a": 0.5, "b": 0.5}, {"a": 1.0}),
    "ops.ensembles": (R, {}, 2, 1),
    "ops.ensemble_members": (R, {}, 12, 6),
    "ops.deploys_per_month": (R, {}, 4, 8),
    "ops.experiments.users_per_day": (R, {}, 2_000_000, 1_000_000),
    "ops.experiments.metric_cv": (R, {}, 2, 1),
    "ops.experiments.relative_mde": (R, {}, 0.005, 0.01),
    "ops.experiments.duration_s": (R, {}, 14 * 86400, 28 * 86400),
    "ops.experiments.arms": (R, {}, 2, 3),
    "ops.experiments.layers": (R, {}, 1, 3),
    "ops.oncall.base_pages_per_model_week": (R, {}, 0.1, 0.2),
    "ops.oncall.change_failure_rate": (R, {}, 0.15, 0.05),
    "ops.oncall.coupling": (R, {}, 0.3, 0.5),
    "ops.platform.engineers": (R, {}, 6, 10),
    "ops.platform.engineer_usd_per_year": (R, {}, 250_000, 300_000),
    "ops.platform.manual_hours_per_model_month": (R, {}, 40, 60),
    "ops.platform.platform_hours_per_model_month": (R, {}, 8, 4),
    # deployment: read by `mlfleet serve --scenario` and `mlfleet ops diff`, not by the plan
    "deployment.replicas": (R, {}, 1, 2),
    "deployment.model_version": (R, {}, "v1", "v2"),
    "deployment.device": (R, {}, "cpu", "auto"),
    "deployment.max_body_bytes": (R, {}, "64KiB", "32KiB"),
    "deployment.default_deadline_s": (R, {}, "500ms", "1s"),
    # the only policy that takes no parameters: both values name it (each is listed unused)
    "deployment.admission": (R, {}, "coalescing", "coalescing"),
    "deployment.admission_params": (R, {"deployment.admission": "token_bucket"},
                                    {"rate_per_s": 100}, {"rate_per_s": 200}),
    "deployment.rank.max_batch_size": (R, {}, 16, 32),
    "deployment.rank.max_queue_delay_s": (R, {}, "4ms", "0ms"),
    "deployment.rank.queue_capacity": (R, {}, 64, 32),
    "deployment.rank.max_items_per_request": (R, {}, 256, 128),
    "deployment.generate.max_running": (R, {}, 16, 8),
    "deployment.generate.queue_capacity": (R, {}, 64, 32),
    "deployment.generate.max_prompt_tokens": (R, {}, 128, 64),
    "deployment.generate.max_new_tokens": (R, {}, 128, 64),
}


def _schema_leaves(schema: dict[str, Any], node: dict[str, Any], prefix: str) -> list[str]:
    """Dotted paths of the JSON Schema's leaf properties (following $ref into $defs)."""
    out = []
    for name, prop in node.get("properties", {}).items():
        refs = [prop.get("$ref")] + [a.get("$ref") for a in prop.get("anyOf", [])]
        ref = next((r for r in refs if r), None)
        if ref is None:
            out.append(prefix + name)
        else:
            target = schema["$defs"][ref.rsplit("/", 1)[-1]]
            out.extend(_schema_leaves(schema, target, f"{prefix}{name}."))
    return out


def test_the_table_covers_every_field_of_the_json_schema() -> None:
    schema = scenario_json_schema()
    leaves = _schema_leaves(schema, schema, "")
    assert leaves == field_paths()
    assert set(CHANGES) == set(leaves), "add a row to CHANGES for every new scenario field"


def _base(name: str) -> dict[str, Any]:
    if name in INLINE:
        inline: dict[str, Any] = copy.deepcopy(INLINE[name])
        return inline
    raw: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    if isinstance(raw["cluster"], str):
        raw["cluster"] = {"name": raw["cluster"]}
    return raw


def _set(raw: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = raw
    for key in parents:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value


def _plan(base: str, overrides: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    raw = _base(base)
    for key, override in {**overrides, path: value}.items():
        _set(raw, key, override)
    plan: dict[str, Any] = build_plan(parse_scenario(raw)).as_dict()
    return plan


@pytest.mark.parametrize("path", list(CHANGES))
def test_a_field_changes_the_plan_or_is_listed_unused(path: str) -> None:
    base, overrides, a, b = CHANGES[path]
    plan_a, plan_b = _plan(base, overrides, path, a), _plan(base, overrides, path, b)
    unused = path in plan_a["unused_fields"]
    assert unused == (path in plan_b["unused_fields"])
    if path.startswith(DECLARED_STATE):  # applied by `serve --scenario`, checked by `ops diff`
        assert not unused and plan_a == plan_b, path  # (tests/ops/declare test both)
        return
    if unused:
        assert plan_a == plan_b, f"{path} is listed unused but changes the plan"
    else:
        assert plan_a != plan_b, f"{path} is neither honoured nor listed unused"

"""The vectorised training question equals the plan's own per-point numbers (exact reference).

For every valid point of small grids over a token workload (Llama 3 405B pretraining) and a
sample workload (ResNet-50), the sweep's one-call-per-family roofline must equal what
``mlfleet plan``'s functions compute for that scenario alone, to 1e-9 relative: the step
(``training_estimate``), the training time, GPU-hours and cloud cost
(``infrastructure.plan`` without exposed communication) and the memory per GPU
(``training_memory`` with the communication section's ZeRO stage).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.infra.roofline import Device
from mlfleet.plan import communication, infrastructure
from mlfleet.plan.context import training_estimate
from mlfleet.plan.training_memory import training_memory
from mlfleet.scenario import Scenario
from mlfleet.sweep.grid import parse_grid
from mlfleet.sweep.run import sweep

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REL = 1e-9


def _planned(scenario: Scenario) -> dict[str, Any]:
    """The plan's own numbers for one scenario, exposed communication left out."""
    est = training_estimate(scenario)
    assert est is not None and scenario.training is not None
    memory = training_memory(scenario, communication.plan(scenario, est))
    assert memory is not None
    train = infrastructure.plan(scenario, est, None, memory).training
    assert train is not None
    peak = Device.from_accelerator(scenario.cluster.accelerator,
                                   scenario.training.precision).peak_flops_per_s
    return {"step_compute_s": train.step_compute_s, "bound": est.bound,
            "mfu": est.model_flop_per_step / scenario.cluster.gpus / (est.step_compute_s * peak),
            "arithmetic_intensity_flop_per_byte": train.arithmetic_intensity_flop_per_byte,
            "units_per_s": train.units_per_s, "training_compute_s": train.training_time_s,
            "gpu_hours": train.gpu_hours, "cloud_cost_usd": train.cloud_cost_usd,
            "memory_bytes_per_gpu": memory.need_bytes, "hbm_bytes": memory.hbm_bytes,
            "fits_hbm": memory.fits, "needs_recompute": memory.needs_recompute,
            "zero_stage_used": memory.zero_stage}


def _assert_equal_to_plan(scenario_path: Path, settings: list[str]) -> int:
    from mlfleet.sweep.combinations import base_document, combinations

    grid = parse_grid(settings)
    table = sweep(scenario_path, grid).table
    scenarios = combinations(base_document(scenario_path), grid, lambda s: s).records
    checked = 0
    for index, scenario in enumerate(scenarios):
        if scenario is None:
            assert table.invalid_reason[index] is not None
            continue
        for name, expected in _planned(scenario).items():
            got = table.metrics[name][index]
            if isinstance(expected, float):
                assert got == pytest.approx(expected, rel=REL, nan_ok=True), (name, index)
            else:
                assert got == expected, (name, index, got, expected)
        checked += 1
    return checked


def test_token_workload_grid_equals_the_plan_per_point() -> None:
    checked = _assert_equal_to_plan(EXAMPLES / "llm-pretraining.yaml", [
        "cluster.gpus=2048:16384:x2", "training.zero_stage=0,1,3",
        "training.precision=bf16,fp8", "training.mfu=0.3,0.5"])
    assert checked == 4 * 3 * 2 * 2


def test_planner_chosen_zero_stage(tmp_path: Path) -> None:
    """Without training.zero_stage the plan picks the least sharding that fits HBM."""
    document = yaml.safe_load((EXAMPLES / "llm-pretraining.yaml").read_text())
    del document["training"]["zero_stage"]
    base = tmp_path / "no-zero.yaml"
    base.write_text(yaml.safe_dump(document))
    checked = _assert_equal_to_plan(base, [
        "cluster.gpus=1024,16384", "training.parallelism.tensor=1,8",
        "training.global_batch_tokens=1Mi,16Mi", "training.seq_len=2048,8192"])
    assert checked == 14  # two batches are too small for 1024 data-parallel ranks


def test_memory_bound_steps(tmp_path: Path) -> None:
    """A step of a few hundred tokens is bound by reading the weights and optimizer state."""
    base = tmp_path / "tiny.yaml"
    base.write_text("name: tiny\nworkload: Llama-3-8B\ncluster: DGX-H100\n"
                    "training: {global_batch_tokens: 512, seq_len: 512, total_tokens: 1G}\n"
                    "prices: {cloud_usd_per_gpu_h: 2.5}\n")
    grid = parse_grid(["cluster.gpus=1,8", "training.global_batch_tokens=512,1Mi"])
    assert set(sweep(base, grid).table.metrics["bound"]) == {"memory", "compute"}
    assert _assert_equal_to_plan(base, [
        "cluster.gpus=1,8", "training.global_batch_tokens=512,1Mi"]) == 4


@pytest.mark.slow  # the plan's per-layer bucket simulation of ResNet-50, per point: ~5 s
def test_sample_workload_grid_equals_the_plan_per_point() -> None:
    checked = _assert_equal_to_plan(EXAMPLES / "vision-training.yaml", [
        "cluster.gpus=1,8", "training.global_batch_samples=256,1024",
        "training.precision=bf16,fp32"])
    assert checked == 8


def test_invalid_combinations_are_kept_with_their_reason() -> None:
    grid = parse_grid(["training.parallelism.data=128,100"])
    table = sweep(EXAMPLES / "llm-pretraining.yaml", grid).table
    assert table.invalid_reason[0] is None
    reason = table.invalid_reason[1]
    assert reason is not None and "parallelism" in reason
    assert np.isnan(table.metrics["step_compute_s"][1])
    assert table.metrics["bound"][1] is None


@settings(max_examples=25, deadline=None)
@given(log_gpus=st.integers(0, 7), per_replica=st.integers(1, 4),
       mfu=st.floats(0.05, 1.0, allow_nan=False), precision=st.sampled_from(["bf16", "fp8"]),
       zero=st.integers(0, 3))
def test_random_points_equal_the_plan(log_gpus: int, per_replica: int, mfu: float,
                                      precision: str, zero: int) -> None:
    """Any feasible point of the 405B scenario (tensor 8 x pipeline 16), drawn at random."""
    gpus = 128 * 2**log_gpus
    data = gpus // 128
    checked = _assert_equal_to_plan(EXAMPLES / "llm-pretraining.yaml", [
        f"cluster.gpus={gpus}", f"training.global_batch_tokens={data * per_replica * 8192}",
        f"training.mfu={mfu!r}", f"training.precision={precision}",
        f"training.zero_stage={zero}"])
    assert checked == 1

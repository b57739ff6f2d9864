"""The storage section of a plan on the bundled examples."""

from __future__ import annotations

import pytest

from mlfleet.catalog.types import Workload
from mlfleet.plan import storage
from mlfleet.plan.context import training_estimate
from mlfleet.scenario import Scenario
from mlfleet.scenario.loading import default_scenario_path, load_scenario, loads_scenario
from mlfleet.storage.checkpoint.size import checkpoint_bytes
from mlfleet.storage.tiers import MONTH_S


def _plan(name: str) -> tuple[storage.StoragePlan | None, Scenario]:
    scenario = load_scenario(name)
    return storage.plan(scenario, training_estimate(scenario)), scenario


def test_vision_example_reads_samples_per_s_times_the_jpeg_size() -> None:
    scenario = load_scenario("vision-training")
    estimate = training_estimate(scenario)
    assert estimate is not None
    result = storage.plan(scenario, estimate)
    assert result is not None
    rate = estimate.units_per_step / estimate.step_compute_s
    assert result.budget.read_bw_bytes_per_s == pytest.approx(rate * 110e3)
    assert result.budget.medium == "parallel-fs" and result.budget.medium_units == 1
    # The whole 90-epoch job fits in a month: the tiers see all of its reads.
    assert result.epochs_per_month == pytest.approx(90 * 1_281_167 * 110e3 / 150e9)
    assert [c.tier for c in result.tier_costs] == [
        "object-storage", "object-storage-ia", "object-storage-glacier-ir"]
    assert storage.reads(scenario, result) == {
        "storage.dataset_bytes", "storage.dataset_samples", "storage.sample_bytes",
        "storage.medium"}


def test_llm_example_reads_token_ids_and_checkpoints_the_model_state() -> None:
    result, _ = _plan("llm-pretraining")
    assert result is not None
    assert result.budget.bytes_per_unit == 4.0  # 32 KiB per 8,192-token sequence
    expected = checkpoint_bytes(Workload.from_name("Llama-3-405B")).total_bytes
    assert result.checkpoint.bytes == expected
    assert result.checkpoint.written_bytes_per_month == pytest.approx(expected * MONTH_S / 3600)
    assert result.checkpoint.kept_bytes == 3 * expected


def test_section_numbers_carry_units_and_the_starvation_verdict() -> None:
    result, _ = _plan("vision-training")
    section = storage.section(result)
    assert section.status == "ok" and section.fidelity == "model"
    assert section.numbers["gpu_busy_fraction_one_unit"] == 1.0
    assert section.numbers["read_bw_needed_bytes_per_s"] > 1e10
    assert "parallel-fs" in section.recommendation


def test_a_scenario_without_training_is_not_applicable() -> None:
    result, scenario = _plan("recsys-serving")
    assert result is None
    assert storage.section(result).status == "not applicable"
    assert storage.reads(scenario, result) == set()


def test_one_unit_of_object_storage_starves_the_vision_job() -> None:
    example = default_scenario_path().parent / "vision-training.yaml"
    scenario = loads_scenario(example.read_text().replace("medium: parallel-fs", "medium: s3"))
    result = storage.plan(scenario, training_estimate(scenario))
    assert result is not None
    assert result.budget.medium_units > 100
    assert result.starvation_one_unit.gpu_busy_fraction < 0.01

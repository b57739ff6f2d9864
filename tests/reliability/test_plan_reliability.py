"""The plan's reliability section on the bundled examples (called directly, not via compose)."""

from __future__ import annotations

import dataclasses

import pytest

from mlfleet.plan import reliability
from mlfleet.plan.context import training_estimate
from mlfleet.reliability.checkpoint_interval import daly_expected_wall_s
from mlfleet.scenario import Scenario, load_scenario


def planned(name: str) -> tuple[Scenario, reliability.ReliabilityPlan | None]:
    scenario = load_scenario(name)
    return scenario, reliability.plan(scenario, training_estimate(scenario))


def test_llm_pretraining_numbers() -> None:
    """Llama 3 405B on 16,384 H100s: 7.76 interruptions a day (the catalog's rates were
    fitted on that run), a 5.68 TB checkpoint, goodput above the scenario's 0.9."""
    scenario, result = planned("llm-pretraining")
    assert result is not None
    assert result.interruptions_per_day == pytest.approx(419 / 54, rel=1e-3)
    assert result.ckpt_bytes == pytest.approx(5.68e12, rel=0.01)
    assert result.interval_source == "Daly optimum" and result.medium == "parallel-fs"
    assert result.goodput > 0.9 and result.async_goodput >= result.goodput
    assert result.compute_s is not None and result.expected_wall_s is not None
    assert result.expected_wall_s == pytest.approx(daly_expected_wall_s(
        solve_s=result.compute_s, interval_s=result.interval_s, ckpt_s=result.ckpt_write_s,
        restart_s=result.failure_cost_s, mtbf_s=result.mtbf_s))
    assert result.interruptions_expected == pytest.approx(result.expected_wall_s / result.mtbf_s)
    assert result.storage_bytes == pytest.approx(33 * result.ckpt_bytes)
    assert result.storage_usd_per_month is not None and result.interruption_usd is not None
    assert reliability.reads(scenario, result) >= {"storage.medium", "training.precision"}


def test_fixed_interval_is_honoured() -> None:
    scenario = load_scenario("llm-pretraining")
    assert scenario.storage is not None
    fixed = scenario.model_copy(update={"storage": scenario.storage.model_copy(
        update={"checkpoint_every_s": 3600.0})})
    result = reliability.plan(fixed, training_estimate(fixed))
    assert result is not None
    assert result.interval_s == 3600.0
    assert result.interval_source == "storage.checkpoint_every_s"
    assert "storage.checkpoint_every_s" in reliability.reads(fixed, result)
    best = reliability.plan(scenario, training_estimate(scenario))
    assert best is not None and result.goodput < best.goodput


def test_step_time_from_the_infrastructure_section_lengthens_the_job() -> None:
    scenario = load_scenario("llm-pretraining")
    estimate = training_estimate(scenario)
    assert estimate is not None
    plain = reliability.plan(scenario, estimate)
    slower = reliability.plan(scenario, estimate, step_time_s=2 * estimate.step_compute_s)
    assert plain is not None and slower is not None
    assert plain.compute_s is not None and slower.compute_s == pytest.approx(2 * plain.compute_s)


def test_vision_training_is_rarely_interrupted() -> None:
    _, result = planned("vision-training")
    assert result is not None
    assert result.interruptions_per_day < 0.01 and result.goodput > 0.999


def test_serving_scenario_has_no_section() -> None:
    scenario, result = planned("recsys-serving")
    assert result is None
    assert reliability.section(result).status == "not applicable"
    assert reliability.reads(scenario, result) == set()


def test_section_numbers_carry_units_and_are_json_ready() -> None:
    _, result = planned("llm-pretraining")
    section = reliability.section(result).as_dict()
    assert section["status"] == "ok" and section["fidelity"] == "model"
    numbers = section["numbers"]
    assert {"goodput", "ckpt_interval_s", "interruptions_per_day", "mtbf_s",
            "ckpt_storage_bytes", "ckpt_storage_monthly_usd"} <= set(numbers)
    assert section["recommendation"].startswith("checkpoint every")


def test_result_is_frozen() -> None:
    _, result = planned("vision-training")
    assert result is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.goodput = 1.0  # type: ignore[misc]

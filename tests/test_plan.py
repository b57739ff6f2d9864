"""`mlfleet plan`: one key per chapter, honest 'not yet implemented', exit codes, goldens."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.cli import main
from mlfleet.plan import CHAPTERS
from mlfleet.scenario import bundled_scenarios, default_scenario_path

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MLFLEET_UPDATE_GOLDEN") == "1"
NOT_YET = {"storage", "reliability", "operations"}


def plan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    rc = main(["plan", *args, "--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_default_plan_has_one_key_per_chapter(capsys: pytest.CaptureFixture[str]) -> None:
    rc, plan = plan_json(capsys)
    assert rc == 0
    assert set(plan) == {*CHAPTERS, "scenario", "checks"}
    assert plan["scenario"]["name"] == "llama3-405b-pretraining"


def test_unimplemented_chapters_say_so_and_carry_no_numbers(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, plan = plan_json(capsys)
    for chapter in NOT_YET:
        assert plan[chapter]["status"] == "not yet implemented"
        assert "numbers" not in plan[chapter]
    for chapter in ("infrastructure", "communication"):
        assert plan[chapter]["status"] == "ok"
        assert plan[chapter]["fidelity"] == "model"


def test_checks_of_unimplemented_chapters_are_not_evaluated(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, plan = plan_json(capsys)
    goodput = next(c for c in plan["checks"] if c["name"] == "min_goodput")
    assert goodput["holds"] is None and "not yet implemented" in goodput["note"]


def test_step_time_is_compute_plus_exposed_comm(capsys: pytest.CaptureFixture[str]) -> None:
    _, plan = plan_json(capsys)
    infra = plan["infrastructure"]["numbers"]
    assert infra["step_time_s"] == pytest.approx(infra["step_compute_s"] + infra["exposed_comm_s"])
    assert infra["exposed_comm_s"] == plan["communication"]["numbers"]["exposed_comm_s"]


def test_violated_constraint_exits_3(tmp_path: Path) -> None:
    text = default_scenario_path().read_text().replace("max_training_time_s: ", "max_training_time_s: 1d #")
    path = tmp_path / "tight.yaml"
    path.write_text(text)
    proc = run_cli("plan", str(path))
    assert proc.returncode == 3, proc.stderr
    assert "max_training_time_s" in proc.stderr and "Traceback" not in proc.stderr
    assert "infrastructure" in proc.stdout  # the plan is still printed


def test_missing_scenario_is_one_line_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("plan", str(tmp_path / "nope.yaml")), "nope.yaml")


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_golden(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each bundled example's plan (JSON and terminal) equals its committed golden output."""
    outputs = {}
    rc_json = main(["plan", str(path), "--json"])
    outputs["json"] = capsys.readouterr().out
    rc_text = main(["plan", str(path)])
    outputs["txt"] = capsys.readouterr().out
    assert rc_json == rc_text == 0, f"{path.name} violates its own constraints"
    for suffix, actual in outputs.items():
        golden = GOLDEN / f"{path.stem}.{suffix}"
        if UPDATE:
            golden.write_text(actual)
        assert golden.exists(), f"missing {golden}; run with MLFLEET_UPDATE_GOLDEN=1"
        assert actual == golden.read_text(), f"{golden.name} differs; review, then update"

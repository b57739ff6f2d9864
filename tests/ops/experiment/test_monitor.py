"""``mlfleet ops experiment monitor``: a metric file replayed through the mSPRT."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main_json


def write_metrics(path: Path, *, units: int, effect: float, seed: int, time: bool = False,
                  arms: tuple[str, ...] = ("control", "treatment")) -> Path:
    """A CSV of ``units`` rows, arms at random, value ~ N(10, 2²) + effect in the last arm."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, len(arms), units)
    value = rng.normal(10.0, 2.0, units) + effect * (arm == len(arms) - 1)
    header = "unit_id,arm,value" + (",time" if time else "")
    lines = [f"u{i},{arms[a]},{v:.6f}" + (f",{i}" if time else "")
             for i, (a, v) in enumerate(zip(arm, value, strict=True))]
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def test_a_real_effect_stops_early_and_the_interval_covers_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_metrics(tmp_path / "m.csv", units=4000, effect=0.5, seed=1)
    doc = run_main_json(capsys, "ops", "experiment", "monitor", str(csv), "--every", "50")
    assert len(doc["looks"]) == 80
    stop = doc["stop"]
    assert stop is not None and stop["p_value"] <= 0.05 and stop["units"] < 4000
    assert doc["final"]["ci_low"] < 0.5 < doc["final"]["ci_high"]
    assert (doc["control"], doc["treatment"], doc["order"]) == ("control", "treatment", "file")
    assert not doc["tau_given"] and doc["tau"] > 0


def test_no_effect_does_not_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_metrics(tmp_path / "m.csv", units=3000, effect=0.0, seed=4)
    doc = run_main_json(capsys, "ops", "experiment", "monitor", str(csv), "--tau", "0.2")
    assert doc["stop"] is None and doc["final"]["p_value"] > 0.05
    assert doc["tau"] == 0.2 and doc["tau_given"]
    assert doc["looks"][0]["units"] == 30  # about 100 looks by default
    first = doc["looks"][0]
    assert first["p_value"] == 1.0 or math.isfinite(first["ci_low"])


def test_time_column_sets_the_arrival_order(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    ordered = write_metrics(tmp_path / "ordered.csv", units=1000, effect=0.3, seed=2, time=True)
    header, *rows = ordered.read_text().splitlines()
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("\n".join([header, *rows[::-1]]) + "\n")
    args = ("--every", "100", "--tau", "0.3")
    one = run_main_json(capsys, "ops", "experiment", "monitor", str(ordered), *args)
    two = run_main_json(capsys, "ops", "experiment", "monitor", str(shuffled), *args)
    assert one["looks"] == two["looks"] and two["order"] == "time"


def test_text_output_names_the_stop(tmp_path: Path) -> None:
    csv = write_metrics(tmp_path / "m.csv", units=2000, effect=1.0, seed=3)
    proc = run_cli("ops", "experiment", "monitor", str(csv))
    assert proc.returncode == 0, proc.stderr
    assert "stop at look" in proc.stdout and "always-valid" in proc.stdout


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    missing.write_text("unit_id,arm\nu1,control\n")
    assert_one_line_error(run_cli("ops", "experiment", "monitor", str(missing)),
                          "'value' is missing")
    one_arm = tmp_path / "one_arm.csv"
    one_arm.write_text("unit_id,arm,value\nu1,control,1\nu2,control,2\n")
    assert_one_line_error(run_cli("ops", "experiment", "monitor", str(one_arm)), "1 arm")
    text = tmp_path / "text.csv"
    text.write_text("unit_id,arm,value\nu1,control,1\nu2,treatment,abc\n")
    assert_one_line_error(run_cli("ops", "experiment", "monitor", str(text)), "'abc'", "line 3")
    csv = write_metrics(tmp_path / "m.csv", units=50, effect=0.0, seed=0)
    assert_one_line_error(run_cli("ops", "experiment", "monitor", str(csv), "--control", "nope"),
                          "'nope' has zero users")
    three = write_metrics(tmp_path / "three.csv", units=60, effect=0.0, seed=0,
                          arms=("a", "b", "c"))
    assert_one_line_error(run_cli("ops", "experiment", "monitor", str(three)), "3 arms")

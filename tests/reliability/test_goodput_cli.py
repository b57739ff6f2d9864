"""`mlfleet sim goodput` and `mlfleet sim stragglers` from the command line: JSON, the
table, the progress bar on a terminal, and one-line errors (exit 2) for bad input."""

from __future__ import annotations

import re

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main, run_main_json
from terminal_helpers import run_on_a_terminal


def test_goodput_json_compares_with_daly(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "sim", "goodput", "--mtbf", "6h", "--interval", "60min",
                        "--seeds", "40")
    assert doc["fidelity"] == "simulate"
    assert doc["job"]["interval_s"] == 3600 and doc["job"]["mtbf_s"] == 6 * 3600
    assert doc["comparison"]["exact_regime"] is True
    assert abs(doc["comparison"]["wall_ratio"] - 1) < 3 * doc["comparison"]["wall_ratio_ci95"]
    sim = doc["simulated"]
    assert sim["runs"] == 40 and 0 < sim["goodput"]["mean"] < 1
    assert abs(sum(sim["time_in_state_s"].values()) / sim["wall_s"]["mean"] - 1) < 1e-9
    assert doc["model"]["daly_interval_s"] == pytest.approx(56.71296 * 60, rel=1e-6)


def test_goodput_policies_and_optimum(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "sim", "goodput", "--gpus", "64", "--node-mtbf", "48h",
                        "--failure", "burst:switch_prob=0.2,nodes=4", "--spares", "1",
                        "--elastic", "--mode", "async", "--snapshot", "20s",
                        "--solve", "100h", "--seeds", "10")
    assert doc["job"]["nodes"] == 8 and doc["job"]["mtbf_s"] == 6 * 3600
    assert doc["job"]["failure"] == {"process": "burst", "switch_prob": 0.2, "nodes": 4,
                                     "follow_prob": 0.3, "follow_gap_s": 1800.0}
    assert doc["comparison"]["exact_regime"] is False
    assert "optimum" not in doc


def test_goodput_optimum(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "sim", "goodput", "--mtbf", "6h", "--solve", "100h",
                        "--seeds", "30", "--optimum")
    optimum = doc["optimum"]
    assert len(optimum["grid_s"]) == 9
    assert optimum["ci95_low_s"] <= optimum["interval_s"] <= optimum["ci95_high_s"]
    assert abs(optimum["interval_s"] / doc["model"]["daly_interval_s"] - 1) < 0.2


def test_goodput_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "sim", "goodput", "--seeds", "5")
    assert code == 0
    assert "simulated / Daly wall time" in out and "Daly 1.94 h" in out


def test_goodput_progress_bar_on_a_terminal() -> None:
    code, out, terminal = run_on_a_terminal("sim", "goodput", "--mtbf", "6h", "--seeds", "400")
    assert code == 0, terminal
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)
    assert "simulating" in shown and "\x1b" not in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["--mtbf", "-1h"], "--mtbf(='-1h')"),
    (["--interval", "0s"], "--interval(='0s')"),
    (["--interval", "soon"], "--interval: 'soon'"),
    (["--failure", "gamma"], "failure(='gamma') is unknown"),
    (["--gpus", "12"], "--gpus(=12) must be a multiple of --gpus-per-node(=8)"),
    (["--mtbf", "1h", "--node-mtbf", "8h"], "exclude each other"),
    (["--mtbf", "2min"], "kernel events"),
    (["--ckpt-cost", "0s"], "--interval daly needs a checkpoint stall > 0"),
    (["--seeds", "0"], "--seeds"),
])
def test_goodput_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str],
                                              args: list[str], fragment: str) -> None:
    assert_one_line_in_process(run_main(capsys, "sim", "goodput", *args), fragment)


def assert_one_line_in_process(result: tuple[int, str, str], fragment: str) -> None:
    """Exit 2, nothing on stdout, one 'error:' line naming ``fragment``, no traceback."""
    code, out, err = result
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1, (code, out, err)
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]


def test_bad_input_in_a_real_process_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("sim", "goodput", "--mtbf", "-1h"), "--mtbf(='-1h')")
    assert_one_line_error(run_cli("sim", "stragglers", "--backups", "1,x"), "--backups")


def test_stragglers_json(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "sim", "stragglers", "--ranks", "8", "--steps", "2000",
                        "--backups", "0,2", "--staleness", "0,inf", "--ssp-steps", "100")
    assert [row["backups"] for row in doc["step_time"]] == [0, 2]
    for row in doc["step_time"]:
        sim = row["simulated_s"]
        assert abs(sim["mean"] - row["closed_form_s"]) < 4 * sim["ci95"]
    assert set(doc["detection"]) == {"timeout", "relative_progress", "variance"}
    assert doc["ssp"][1]["staleness"] is None  # inf is not JSON: null with a reason
    assert doc["ssp"][0]["wall_s"] >= doc["ssp"][1]["wall_s"]
    assert "cited, not measured" in doc["convergence"]["bounded_staleness"]


def test_stragglers_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "sim", "stragglers", "--ranks", "4", "--steps", "400",
                            "--ssp-steps", "50")
    assert code == 0 and "detecting the slow rank" in out and "bounded staleness" in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["--backups", "1,x"], "--backups(='1,x')"),
    (["--staleness", "-1"], "--staleness(='-1')"),
    (["--base", "-1ms"], "--base(='-1ms')"),
    (["--jitter", "fast"], "--jitter: 'fast'"),
    (["--steps", "100000000"], "rank-steps"),
    (["--ssp-steps", "1000000"], "events"),
])
def test_stragglers_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str],
                                                 args: list[str], fragment: str) -> None:
    assert_one_line_in_process(run_main(capsys, "sim", "stragglers", *args), fragment)

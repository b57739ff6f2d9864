"""``mlfleet ops experiment interleaving``: users for 80 % power by each method."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main_json


def test_json_reports_both_sizes_the_ratio_and_the_conditions(
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "ops", "experiment", "interleaving", "--users", "5000",
                        "--reps", "50", "--gap", "0.5", "--list-len", "8")
    assert doc["ratio"] == pytest.approx(doc["ab"]["users"] / doc["interleaving"]["users"])
    assert doc["model"]["list_len"] == 8 and doc["model"]["gap"] == 0.5
    assert doc["quality"]["clicks_a"] > doc["quality"]["clicks_b"]
    assert doc["prefer_a"] > doc["prefer_b"]


@pytest.mark.slow
def test_text_output_states_the_conditions() -> None:
    proc = run_cli("ops", "experiment", "interleaving", "--users", "3000", "--reps", "20",
                   "--gap", "0.5")
    assert proc.returncode == 0, proc.stderr
    assert "ratio A/B / interleaving" in proc.stdout and "position-based" in proc.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["--propensity", "2"], "--propensity(='2')"), (["--propensity", "0,1"], "(0, 1e6)"),
    (["--gap", "0.001", "--users", "500"], "too"), (["--gap", "0"], "--gap"),
])
def test_bad_input_exits_2_with_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("ops", "experiment", "interleaving", *args), fragment)


@pytest.mark.slow
def test_ctrl_c_stops_a_long_study_with_130_and_one_line() -> None:
    """SIGINT 3 s into a study of 10⁶ simulated users per method (minutes of work): exit 130,
    one line on stderr, nothing on stdout (users are simulated in bounded chunks)."""
    mlfleet = str(Path(sys.executable).with_name("mlfleet"))
    child = subprocess.Popen([mlfleet, "ops", "experiment", "interleaving", "--users",
                              "1000000", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3.0)
    assert child.poll() is None  # still running: the signal lands mid-study
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err.decode()
    assert out == b"" and b"Traceback" not in err
    assert len(err.decode().strip().splitlines()) == 1, err

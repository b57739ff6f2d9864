"""``mlfleet ops experiment peeking``: the table on the command line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main_json


def test_json_has_the_table_the_continuous_msprt_and_the_power_lines(
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "ops", "experiment", "peeking", "--sims", "4000",
                        "--power-sims", "500", "--looks", "1,5,20")
    assert [r["looks"] for r in doc["rows"]] == [1, 5, 20]
    assert [r["armitage"] for r in doc["rows"]] == [0.05, 0.142, 0.247]
    assert doc["grid_steps"] == 20 and doc["sims"] == 4000
    assert all(r["msprt_type_one"] < r["fixed_type_one"] for r in doc["rows"])
    assert [a["effect_in_mde"] for a in doc["alternatives"]] == [1.0, 2.0]


@pytest.mark.slow
def test_text_table_names_armitage() -> None:
    proc = run_cli("ops", "experiment", "peeking", "--sims", "2000", "--power-sims", "200")
    assert proc.returncode == 0, proc.stderr
    assert "Armitage 1969" in proc.stdout and "0.373" in proc.stdout
    assert "mSPRT checked after every one of the 300 steps" in proc.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["--looks", "0,2"], "--looks(='0,2')"), (["--looks", "x"], "--looks(='x')"),
    (["--looks", "7,11,13,17"], "lcm = 17017"), (["--sims", "5000000"], "allowed: at most"),
])
def test_bad_input_exits_2_with_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("ops", "experiment", "peeking", *args), fragment)


@pytest.mark.slow
@pytest.mark.parametrize("args", [["peeking", "--sims", "3000000"],
                                  ["interleaving", "--users", "1000000"]])
def test_ctrl_c_stops_a_long_study_with_130_and_one_line(args: list[str]) -> None:
    """SIGINT 3 s into a study of half a minute or more (3·10⁶ walks of 300 steps; 10⁶
    simulated users per method): exit 130, one line on stderr, nothing on stdout. Walks are
    drawn in chunks of 10⁶ steps and users simulated 50 000 queries at a time, so the signal
    lands between two chunks (observed: exit 0.3-0.7 s after the signal on a busy host)."""
    mlfleet = str(Path(sys.executable).with_name("mlfleet"))
    child = subprocess.Popen([mlfleet, "ops", "experiment", *args, "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3.0)
    assert child.poll() is None  # still running: the signal lands mid-study
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err.decode()
    assert out == b"" and b"Traceback" not in err
    assert len(err.decode().strip().splitlines()) == 1, err

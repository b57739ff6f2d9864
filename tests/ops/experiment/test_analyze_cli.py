"""``mlfleet ops experiment analyze``: the JSON table, and one line + exit 2 for bad files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main

AB = str(Path(__file__).resolve().parent / "data" / "ab.csv")


def test_json_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "ops", "experiment", "analyze", AB, "--cuped",
                              "--bootstrap", "100", "--correction", "bh", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [a["arm"] for a in doc["arms"]] == ["control", "treatment"]
    (comparison,) = doc["comparisons"]
    assert comparison["ci_low"] < comparison["diff"] < comparison["ci_high"]
    assert comparison["bootstrap"]["resamples"] == 100
    assert doc["srm"]["mismatch"] is False and doc["cuped"]["theta"] > 0
    assert doc["interaction"]["cell_n"]


def test_text_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "ops", "experiment", "analyze", AB, "--cuped")
    assert code == 0 and "SRM: p =" in out and "CUPED: theta" in out and "interaction" in out


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "m.csv"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("text", "args", "fragment"), [
    ("unit_id,arm\n1,a\n", [], "column 'value' is missing; required: unit_id, arm, value"),
    ("unit_id,arm,value\n1,a,1\n2,b,oops\n", [], "line 3: value(='oops') must be a number"),
    ("unit_id,arm,value\n1,a,1\n2,b,NaN\n", [], "line 3: value(='NaN') must be a finite"),
    ("unit_id,arm,value\n1,a,1\n2,a,2\n", [], "an experiment needs at least 2 arms"),
    ("unit_id,arm,value\n1,a,1\n2,a,2\n3,b,1\n4,b,3\n", ["--weights", "a=50,c=50"],
     "arm 'c' has zero users"),
    ("unit_id,arm,value\n1,a,1\n2,a,2\n3,b,1\n4,b,3\n", ["--weights", "a=50,b=60"],
     "sum to 110%"),
    ("unit_id,arm,value\n1,a,1\n2,a,2\n3,b,1\n4,b,3\n", ["--correction", "x"],
     "--correction(='x') is unknown"),
    ("unit_id,arm,value\n1,a,1\n2,a,2\n3,b,1\n4,b,3\n", ["--bootstrap", "5"],
     "--bootstrap(=5) must be 0 or between 10"),
])
def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                               args: list[str], fragment: str) -> None:
    code, out, err = run_main(capsys, "ops", "experiment", "analyze", _file(tmp_path, text),
                              *args)
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1 and fragment in err


def test_missing_column_in_a_real_process(tmp_path: Path) -> None:
    proc = run_cli("ops", "experiment", "analyze", _file(tmp_path, "unit_id,value\n1,2\n"))
    assert_one_line_error(proc, "column 'arm' is missing")


@pytest.mark.slow
def test_ctrl_c_stops_a_long_bootstrap_with_130_and_one_line(tmp_path: Path) -> None:
    """SIGINT 3 s into a bootstrap of 10⁵ resamples of 10⁵ units per arm (minutes of work):
    exit 130, one line on stderr, no traceback (resamples are drawn in bounded batches, so
    the signal lands between two of them)."""
    rng = np.random.default_rng(0)
    rows = "".join(f"{i},{'ab'[i % 2]},{v:.3f}\n" for i, v in enumerate(rng.normal(size=200_000)))
    path = tmp_path / "big.csv"
    path.write_text("unit_id,arm,value\n" + rows)
    mlfleet = str(Path(sys.executable).with_name("mlfleet"))
    child = subprocess.Popen([mlfleet, "ops", "experiment", "analyze", str(path), "--bootstrap",
                              "100000", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3.0)
    assert child.poll() is None  # still running: the signal lands mid-bootstrap
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err.decode()
    assert out == b"" and b"Traceback" not in err
    assert len(err.decode().strip().splitlines()) == 1, err

"""``mlfleet ops canary judge`` and ``sim``: outputs and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli

DATA = Path(__file__).resolve().parent / "data"
BASE, CANARY = str(DATA / "baseline.csv"), str(DATA / "canary.csv")


def test_judge_fails_a_slower_canary_and_passes_itself() -> None:
    bad = run_cli("ops", "canary", "judge", BASE, CANARY, "--json")
    assert bad.returncode == 0, bad.stderr
    doc = json.loads(bad.stdout)
    assert doc["decision"] == "fail"
    assert {m["name"]: m["classification"] for m in doc["metrics"]}["latency_p50_s"] == "High"
    same = run_cli("ops", "canary", "judge", BASE, BASE)
    assert same.returncode == 0 and same.stdout.startswith("decision: pass")


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


CONFIG = """metrics:
  - {name: latency_p50_s, direction: increase, group: latency}
  - {name: errors, direction: increase, group: errors}
group_weights: {latency: 60, errors: 40}
thresholds: {pass: 95, marginal: 75}
"""


@pytest.mark.parametrize(("config", "series", "fragment"), [
    (CONFIG, "latency_p50_s,errors\n0.1,0\n", "column 'time_s' is missing"),
    (CONFIG, "time_s,latency_p50_s\n0,0.1\n", "metric 'errors' is not in the baseline data"),
    (CONFIG, "time_s,latency_p50_s,errors\n0,0.1\n", "row has 2 cells"),
    (CONFIG, "time_s,latency_p50_s,errors\n0,fast,0\n", "must be a number"),
    (CONFIG.replace("40}", "30}"), "time_s,latency_p50_s,errors\n0,0.1,0\n",
     "group_weights sum(=90) must be 100"),
    (CONFIG.replace("marginal: 75", "marginal: 99"), "time_s,latency_p50_s,errors\n0,0.1,0\n",
     "thresholds.marginal(=99) must be <="),
    (CONFIG.replace("increase, group: latency", "up, group: latency"),
     "time_s,latency_p50_s,errors\n0,0.1,0\n", "direction"),
    ("metrics: []\n", "time_s,x\n0,1\n", "non-empty list"),
    ("metrics:\n  - {name: x, colour: red}\n", "time_s,x\n0,1\n", "'colour' is unknown"),
])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, config: str, series: str,
                                      fragment: str) -> None:
    cfg, data = write(tmp_path, "c.yaml", config), write(tmp_path, "b.csv", series)
    assert_one_line_error(run_cli("ops", "canary", "judge", data, data, "--config", cfg),
                          fragment)


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("ops", "canary", "judge", str(tmp_path / "no.csv"), BASE),
                          "cannot be read")


@pytest.mark.parametrize(("args", "fragment"), [
    (["--regression", "latency=0.5"], "out of range"),
    (["--regression", "slow"], "is unknown"),
    (["--rate", "-1"], "--rate"),
])
def test_sim_bad_input(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("ops", "canary", "sim", *args), fragment)


def test_real_refuses_the_sim_only_regression_before_starting_servers() -> None:
    assert_one_line_error(run_cli("ops", "canary", "real", "--regression", "variance=0.5"),
                          "simulator-only")
    assert_one_line_error(run_cli("ops", "canary", "real", "--duration", "2s"),
                          "at least 4 intervals")

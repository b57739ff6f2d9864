"""``mlfleet ops debug``: the commands on the bundled data, their bad input, and the demo."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from debug_helpers import check_trace_format

from cli_helpers import assert_one_line_error, run_cli, run_main, run_main_json

DATA = Path(__file__).resolve().parent / "data"
LOGS = str(DATA / "train-logs")


def test_stragglers_and_gradients_on_the_bundled_real_run(capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    doc = run_main_json(capsys, "ops", "debug", "stragglers", LOGS)
    assert [s["rank"] for s in doc["stragglers"]] == [2] and doc["steps_compared"] == 12
    doc = run_main_json(capsys, "ops", "debug", "gradients", LOGS)
    assert [(a["rank"], a["step"], a["kind"]) for a in doc["anomalies"]] == [(1, 6, "nonfinite")]
    assert doc["anomalies"][0]["value"] is None  # NaN as null, with its reason


def test_timeline_writes_a_valid_trace(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    doc = run_main_json(capsys, "ops", "debug", "timeline", LOGS, "--out", str(out))
    assert doc["ranks"] == 3 and doc["sync_phase"] == "allreduce"
    assert len(check_trace_format(json.loads(out.read_text()))) == doc["events"]


def test_changepoints_finds_the_bundled_regression(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "ops", "debug", "changepoints", str(DATA / "latency.csv"),
                        "--baseline", "40")
    assert [abs(c["change_index"] - 100) <= 3 for c in doc["change_points"]] == [True]


def test_staleness_from_a_series_and_simulated(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "ops", "debug", "staleness", "--series", str(DATA / "decay.csv"))
    assert doc["plan"]["slope_mse_per_unit"] == pytest.approx(0.02, rel=0.05)
    doc = run_main_json(capsys, "ops", "debug", "staleness")
    assert doc["plan"]["interval_units"] == pytest.approx((2 * 200 / (1000 * 0.02)) ** 0.5)
    for row in doc["decay"]:
        assert row["simulated_mse"] == pytest.approx(row["model_mse"], rel=0.1)


@pytest.mark.parametrize(("args", "fragment"), [
    (["changepoints", str(DATA / "latency.csv"), "--column", "p99"],
     "has no column 'p99'; it has: window, latency_s"),
    (["changepoints", str(DATA / "decay.csv"), "--column", "age"], "decay.csv:2: age='0'"),
    (["changepoints", str(DATA / "latency.csv"), "--window", "100"], "need more than"),
    (["changepoints", str(DATA / "latency.csv"), "--h", "-1"], "--h(=-1"),
    (["drift", str(DATA / "features-reference.csv"), str(DATA / "decay.csv")],
     "has no column 'age_days'"),
    (["drift", str(DATA / "missing.csv"), str(DATA / "decay.csv")], "cannot read"),
    (["staleness", "--dims", "0"], "--dims(=0)"),
    (["staleness", "--series", str(DATA / "latency.csv")], "has no column 'age'"),
    (["stragglers", LOGS, "--persist", "0"], "--persist(=0"),
    (["gradients", LOGS, "--window", "1"], "--window(=1)"),
    (["timeline", LOGS, "--out", "/proc/nope/t.json"], "cannot write"),
    (["demo", "--ranks", "2"], "--ranks(=2) must be an integer in 3..8"),
    (["demo", "--steps", "10"], "--steps(=10)"),
    (["demo", "--log-dir", LOGS], "already holds rank logs"),
])
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str],
                                      fragment: str) -> None:
    code, out, err = run_main(capsys, "ops", "debug", *args)
    assert code == 2, err
    assert err.strip().count("\n") == 0 and err.startswith("error: ") and fragment in err, err


@pytest.mark.slow
@pytest.mark.serial  # its straggler verdict times real ranks
def test_demo_finds_every_planted_fault(tmp_path: Path) -> None:
    proc = run_cli("ops", "debug", "demo", "--ranks", "3", "--steps", "30", "--log-dir",
                   str(tmp_path / "logs"), "--trace", str(tmp_path / "t.json"), "--json",
                   timeout_s=600)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [s["rank"] for s in doc["stragglers"]] == [2]
    assert {(a["rank"], a["step"], a["kind"]) for a in doc["gradients"]} == {
        (1, 10, "nonfinite"), (0, 20, "spike")}
    assert [abs(c["change_index"] - 200) <= 3 for c in doc["changepoints"]["found"]] == [True]
    assert doc["drift"]["drifted_psi"] and doc["drift"]["psi_verdict"] == "shifted"
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == [
        "rank-00000.jsonl", "rank-00001.jsonl", "rank-00002.jsonl"]
    check_trace_format(json.loads((tmp_path / "t.json").read_text()))


@pytest.mark.slow
def test_collective_run_writes_logs_the_timeline_reads(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    proc = run_cli("run", "collective", "allreduce", "--ranks", "3", "--sizes", "4K,64K",
                   "--repeats", "4", "--log-dir", str(logs), "--json", timeout_s=300)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "t.json"
    proc = run_cli("ops", "debug", "timeline", str(logs), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    events = check_trace_format(json.loads(out.read_text()))
    collectives = [e for e in events if e["cat"] == "collective"]
    assert len(collectives) == 3 * 2 * 4
    assert {e["args"]["bytes"] for e in collectives} == {4096, 65536}
    assert json.loads(proc.stdout)["sync_phase"] == "collective"
    assert_one_line_error(run_cli("run", "collective", "allreduce", "--ranks", "2", "--sizes",
                                  "4K", "--log-dir", str(logs)), "already holds rank logs")


def _rank_pids(logs: Path) -> set[int]:
    pids = set()
    for path in logs.glob("rank-*.jsonl"):
        for line in path.read_text().splitlines()[:1]:
            pids.add(int(json.loads(line)["pid"]))
    return pids


@pytest.mark.serial
def test_ctrl_c_stops_the_demo_its_ranks_and_writes_no_trace(tmp_path: Path) -> None:
    mlfleet = str(Path(sys.executable).with_name("mlfleet"))
    logs, trace = tmp_path / "logs", tmp_path / "t.json"
    child = subprocess.Popen([mlfleet, "ops", "debug", "demo", "--steps", "500", "--log-dir",
                              str(logs), "--trace", str(trace)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(pids := _rank_pids(logs)) < 4:  # every rank has flushed its first spans
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.1)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    took_s = time.monotonic() - sent
    assert child.returncode == 130, err
    assert took_s < 3.0, took_s  # the 1 s goal, with tests/test_signals.py's allowance
    assert "Traceback" not in err.decode()
    time.sleep(0.2)
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []
    assert not trace.exists()

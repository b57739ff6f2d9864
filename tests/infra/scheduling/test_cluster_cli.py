"""``mlfleet sim cluster`` end to end, in a real subprocess, with bad input."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import ENTRY, assert_one_line_error, run_cli


def test_json_run_of_a_bundled_workload(tmp_path: Path) -> None:
    out = tmp_path / "jobs.csv"
    proc = run_cli("sim", "cluster", "workload-6", "--policy", "tiresias", "--json",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["cluster"] == {"nodes": 16, "gpus_per_node": 4, "gpus": 64}
    assert doc["metrics"]["finished"] == 160
    assert abs(doc["metrics"]["avg_jct_s"] - 3469.69375) < 1e-6  # the artifact's README
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 160 and float(rows[0]["jct_s"]) > 0


def test_table_output_names_the_metrics() -> None:
    proc = run_cli("sim", "cluster", "workload-3@0.5", "--policy", "optimus")
    assert proc.returncode == 0, proc.stderr
    for label in ("average JCT", "p95 / p99 JCT", "GPU utilisation", "queueing delay"):
        assert label in proc.stdout


def test_unknown_policy_lists_the_known_ones(tmp_path: Path) -> None:
    out = tmp_path / "jobs.csv"
    proc = run_cli("sim", "cluster", "workload-1", "--policy", "nope", "--out", str(out))
    assert_one_line_error(proc, "policy(='nope') is unknown; known:", "tiresias", "optimus")
    assert not out.exists()


def test_bad_workload_files_exit_2_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "m.csv"
    missing.write_text("name,time,application,num_replicas\na,0,cifar10,2\n")
    assert_one_line_error(run_cli("sim", "cluster", str(missing)), "missing column(s) batch_size")
    negative = tmp_path / "n.csv"
    negative.write_text("name,submit_s,gpus,duration_s\na,0,-4,100\n")
    assert_one_line_error(run_cli("sim", "cluster", str(negative)), "gpus(='-4')")


def test_cluster_smaller_than_the_largest_job(tmp_path: Path) -> None:
    out = tmp_path / "jobs.csv"
    proc = run_cli("sim", "cluster", "workload-1", "--nodes", "2", "--out", str(out))
    assert_one_line_error(proc, "cluster(=2 nodes x 4 GPUs = 8) is smaller than the largest job")
    assert not out.exists()


def test_bad_interval() -> None:
    assert_one_line_error(run_cli("sim", "cluster", "workload-1", "--interval", "0s"),
                          "--interval(='0s') must be a duration > 0")


@pytest.mark.slow
def test_ctrl_c_stops_a_long_replay_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "jobs.csv"
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, "sim", "cluster", "philly",
                             "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)  # well into the replay (about 30 s in all)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not out.exists() and not out.with_name(out.name + ".part").exists()

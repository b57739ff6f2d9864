"""``mlfleet sweep`` as a user runs it: the Parquet file, its metadata, DuckDB, bad input,
Ctrl-C, the progress bar."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from cli_helpers import ENTRY, assert_one_line_error, run_cli, run_main
from mlfleet.sweep.grid import parse_grid
from mlfleet.sweep.parquet import METADATA_KEY
from mlfleet.sweep.run import sweep
from mlfleet.sweep.training import TRAINING_METRICS
from terminal_helpers import run_on_a_terminal

SCENARIO = str(Path(__file__).resolve().parents[2] / "examples" / "llm-pretraining.yaml")
ISSUE_GRID = ("--set", "cluster.gpus=1024,2048,4096,8192", "--set", "training.zero_stage=0,1,3")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _in_process(capsys: pytest.CaptureFixture[str],
                *args: str) -> subprocess.CompletedProcess[str]:
    """``mlfleet ARGS`` run in this interpreter (a fresh one costs seconds on a busy host)."""
    code, out, err = run_main(capsys, *args)
    return subprocess.CompletedProcess(list(args), code, out, err)


def test_the_issues_example_writes_one_row_per_point(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep.parquet"
    code, stdout, err = run_main(capsys, "sweep", SCENARIO, *ISSUE_GRID, "--out", str(out),
                                 "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["points"] == summary["valid_points"] == 12
    table = pq.read_table(out)
    assert table.column_names == ["cluster.gpus", "training.zero_stage",
                                  "training.parallelism.data", *TRAINING_METRICS,
                                  "invalid_reason"]
    assert table.column("cluster.gpus").to_pylist() == [g for g in (1024, 2048, 4096, 8192)
                                                        for _ in range(3)]
    # data-parallel degree follows the GPU count: tensor 8 x pipeline 16 stay
    assert table.column("training.parallelism.data").to_pylist()[::3] == [8, 16, 32, 64]
    assert _leftovers(tmp_path) == ["sweep.parquet"]


def test_metadata_describes_fields_metrics_and_units(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    # one real subprocess: the command as a user starts it
    proc = run_cli("sweep", SCENARIO, "--set", "training.mfu=0.3,0.4", "--metric",
                   "step_compute_s", "--metric", "fits_hbm", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    meta = json.loads(pq.read_schema(out).metadata[METADATA_KEY])
    assert meta["scenario"] == SCENARIO and meta["question"] == "training"
    assert meta["fields"] == ["training.mfu"] and meta["derived_fields"] == []
    assert meta["metrics"] == ["step_compute_s", "fits_hbm"]
    assert meta["units"] == {"step_compute_s": "s", "fits_hbm": "bool"}
    assert meta["points"] == 2 and meta["invalid_points"] == 0
    assert meta["mlfleet_version"]


def test_duckdb_queries_the_file(tmp_path: Path) -> None:
    out = tmp_path / "sweep.parquet"
    grid = parse_grid(["cluster.gpus=1024,2048,4096,8192", "training.zero_stage=0,1,3"])
    from mlfleet.sweep.parquet import write_table

    write_table(sweep(SCENARIO, grid).table, out)
    relation = duckdb.sql(
        f"""select "cluster.gpus" as gpus, min(memory_bytes_per_gpu) / 1e9 as gb,
                   max(training_compute_s) / 86400 as days
            from '{out}' where invalid_reason is null and fits_hbm
            group by gpus order by gpus""")
    assert relation is not None
    rows = relation.fetchall()
    assert [r[0] for r in rows] == [1024, 2048, 4096, 8192]
    days = [r[2] for r in rows]
    assert days == sorted(days, reverse=True)  # more GPUs, shorter run
    assert days[-1] * 8192 == pytest.approx(days[0] * 1024, rel=1e-9)  # compute-bound: linear


def test_invalid_combinations_are_counted_and_explained(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.parquet"
    proc = _in_process(capsys, "sweep", SCENARIO, "--set", "training.parallelism.data=128,100",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "invalid: 1" in proc.stdout and "must divide the global batch" in proc.stdout
    reasons = pq.read_table(out).column("invalid_reason").to_pylist()
    assert reasons[0] is None and "parallelism.data" in reasons[1]


@pytest.mark.parametrize(("args", "fragments"), [
    (("--set", "cluster.gpu=8"), ("cluster.gpu", "cluster.gpus")),
    (("--set", "cluster.gpus=eight"), ("cluster.gpus", "'eight'", "positive integer")),
    (("--set", "cluster.gpus="), ("cluster.gpus", "empty")),
    ((), ("no --set",)),
    (("--set", "training.parallelism.data=100,300"), ("no valid design point",)),
    (("--set", "cluster.gpus=8", "--metric", "speed"), ("--metric", "'speed'")),
    (("--set", "cluster.gpus=8", "--address", "1.2.3.4:6379"), ("--sim",)),
    (("--set", "training.mfu=0.4,x"), ("training.mfu", "'x'")),
    (("--set", "cluster.gpus=8", "--seed", "3"), ("--seed", "--sim serving")),
])
def test_bad_input_is_one_line_exit_2_and_no_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
        fragments: tuple[str, ...]) -> None:
    proc = _in_process(capsys, "sweep", SCENARIO, *args, "--out", str(tmp_path / "s.parquet"))
    assert_one_line_error(proc, *fragments)
    assert _leftovers(tmp_path) == []


def test_the_training_question_needs_a_training_section(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recsys = str(Path(SCENARIO).with_name("recsys-serving.yaml"))
    proc = _in_process(capsys, "sweep", recsys, "--set", "serving.qps=1k,2k", "--out",
                       str(tmp_path / "s.parquet"))
    assert_one_line_error(proc, "training section", "--sim serving")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["missing/s.parquet", "folder", "readonly/s.parquet"])
def test_unwritable_out_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           where: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "readonly").mkdir(mode=0o555)
    proc = _in_process(capsys, "sweep", SCENARIO, "--set", "cluster.gpus=8192", "--out",
                   str(tmp_path / where))
    if os.geteuid() == 0 and where.startswith("readonly"):
        assert proc.returncode == 0  # root writes anywhere; the other cases still hold
        return
    assert_one_line_error(proc, "--out")
    assert _leftovers(tmp_path / "folder") == [] and _leftovers(tmp_path / "readonly") == []


def test_progress_is_reported_up_to_the_grid_size() -> None:
    seen: list[tuple[int, int]] = []
    grid = parse_grid(["training.mfu=0.2:0.6:0.001"])
    sweep(SCENARIO, grid, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (grid.size, grid.size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) > 1


@pytest.mark.slow  # a real terminal and a fresh interpreter
def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    code, _, terminal = run_on_a_terminal("sweep", SCENARIO, "--set", "training.mfu=0.2:0.6:0.0004",
                                          "--out", str(tmp_path / "s.parquet"))
    assert code == 0, terminal
    assert "sweep" in terminal and "%" in terminal, terminal[-1000:]


@pytest.mark.slow
def test_ctrl_c_stops_the_sweep_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, "sweep", SCENARIO, "--set",
                             "training.mfu=0.01:1:0.00001", "--set", "prices.pue=1.1,1.2,1.3",
                             "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)  # imports done, validating the grid's 297,003 points (tens of seconds)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert _leftovers(tmp_path) == []

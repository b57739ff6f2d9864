"""``mlfleet report``: what the file holds, and bad input (one line, exit 2, no file left)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main
from mlfleet.report.plots import scheduling


def run_report(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """``mlfleet report ARGS`` in-process (bad input fails before any slow work)."""
    code, out, err = run_main(capsys, "report", *args)
    return subprocess.CompletedProcess(["mlfleet", "report", *args], code, out, err)


@pytest.mark.slow  # runs every simulation of the report: about 3 s of CPU


def test_the_default_report_holds_every_chapter_and_every_plot(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    proc = run_report(capsys, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out}"
    text = out.read_text(encoding="utf-8")
    for chapter in ("infrastructure", "storage", "communication", "reliability", "serving",
                    "operations", "checks"):
        assert f'id="plan-{chapter}"' in text
    for plot in ("roofline", "collectives", "serving-latency", "checkpoint-goodput",
                 "cache-hit-rate", "scheduling-jct"):
        assert f'data-plot="{plot}"' in text
    assert "llama3-405b-pretraining" in text and "Bottleneck:" in text
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


@pytest.mark.slow
def test_a_serving_scenario_draws_its_own_slo(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    proc = run_report(capsys, "recsys-serving", "--out", str(out), "--seed", "2")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "SLO p99 0.01 s" in text and "stand-in" not in text
    assert "checkpointing: the scenario has no training job" in text


@pytest.mark.parametrize(("out", "fragment"), [
    ("missing-dir/report.html", "does not exist"),
    ("/proc/report.html", "cannot write in '/proc'"),
    ("/proc/nope/report.html", "does not exist"),
])
def test_an_unwritable_out_fails_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         out: str, fragment: str) -> None:
    proc = run_report(capsys, "--out", out if out.startswith("/") else str(tmp_path / out))
    assert_one_line_error(proc, "--out", fragment)
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("report", "--out", str(tmp_path)), "is a directory")


def _parquet(path: Path, metadata: dict[bytes, bytes] | None) -> Path:
    table = pa.table({"cluster.gpus": [8, 16], "step_time_s": [1.0, 0.6]})
    pq.write_table(table.replace_schema_metadata(metadata), path)
    return path


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda d: _parquet(d / "plain.parquet", None), "is not a sweep: its Parquet metadata has no"),
    (lambda d: _parquet(d / "bad.parquet", {b"mlfleet.sweep": b"{not json"}), "metadata must be"),
    (lambda d: _parquet(d / "cols.parquet", {b"mlfleet.sweep": json.dumps(
        {"fields": ["cluster.gpus"], "metrics": ["mfu"]}).encode()}), "columns mfu are named"),
    (lambda d: d / "missing.parquet", "no such file"),
    (lambda d: (d / "text.parquet").write_text("a,b\n1,2\n") and d / "text.parquet",
     "is not a Parquet file"),
])
def test_a_sweep_that_is_not_one_fails_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, fragment: str) -> None:
    sweep = make(tmp_path)  # type: ignore[operator]
    out = tmp_path / "report.html"
    proc = run_report(capsys, "--out", str(out), "--sweep", str(sweep))
    assert_one_line_error(proc, "--sweep", fragment)
    assert not out.exists()
    assert not list(tmp_path.glob(".report.html*"))


def test_ctrl_c_during_the_build_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the slowest chart runs

    monkeypatch.setattr(scheduling, "chart", interrupted)
    code, _, err = run_main(capsys, "report", "--out", str(tmp_path / "r.html"))
    assert code == 130 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []

"""``mlfleet report --sweep``: a sweep's Parquet file (the schema ``mlfleet sweep`` writes)
becomes one chart per numeric metric against the first swept field."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli_helpers import run_main
from mlfleet.report.plots.sweep import MAX_LINES, charts
from mlfleet.report.plots.sweep_file import SweepFileError, read_sweep


def write_sweep(path: Path, columns: dict[str, list[Any]], *, fields: list[str],
                metrics: list[str], units: dict[str, str] | None = None) -> Path:
    """A sweep file as ``mlfleet sweep`` writes one: the columns plus the description."""
    meta = {"scenario": "examples/llm-pretraining.yaml", "fields": fields, "metrics": metrics,
            "units": units or {}}
    table = pa.table(columns).replace_schema_metadata({b"mlfleet.sweep": json.dumps(meta)})
    pq.write_table(table, path)
    return path


def grid(gpus: list[int], stages: list[int]) -> dict[str, list[Any]]:
    rows = [(g, z) for g in gpus for z in stages]
    return {"cluster.gpus": [g for g, _ in rows], "training.zero_stage": [z for _, z in rows],
            "step_time_s": [1e4 / g * (1 + 0.1 * z) for g, z in rows],
            "bound": ["compute"] * len(rows), "fits": [z > 0 for _, z in rows]}


def test_each_numeric_metric_is_drawn_against_the_first_field(tmp_path: Path) -> None:
    path = write_sweep(tmp_path / "s.parquet", grid([64, 512, 4096], [0, 1, 3]),
                       fields=["cluster.gpus", "training.zero_stage"],
                       metrics=["step_time_s", "bound", "fits"], units={"step_time_s": "s (x)"})
    (chart,) = charts(read_sweep(path))  # 'bound' is text and 'fits' boolean: no chart
    assert chart.plot_id == "sweep-step-time-s" and chart.y.label == "step_time_s (s)"
    assert [s.name for s in chart.series] == ["zero_stage=0", "zero_stage=1", "zero_stage=3"]
    assert chart.x.log and chart.y.log  # 64x range of GPUs and of step times
    assert chart.series[2].x == (64.0, 512.0, 4096.0)
    assert chart.series[2].y[0] == pytest.approx(1e4 / 64 * 1.3)
    assert chart.note == ""


def test_lines_are_capped_and_the_note_says_how_many_were_left_out(tmp_path: Path) -> None:
    path = write_sweep(tmp_path / "s.parquet", grid([8, 16], list(range(MAX_LINES + 3))),
                       fields=["cluster.gpus", "training.zero_stage"], metrics=["step_time_s"])
    (chart,) = charts(read_sweep(path))
    assert len(chart.series) == MAX_LINES
    assert chart.note == (f"3 more combinations of training.zero_stage not drawn "
                          f"(at most {MAX_LINES} lines)")


def test_a_text_field_is_drawn_by_position_and_nulls_are_gaps(tmp_path: Path) -> None:
    path = write_sweep(tmp_path / "s.parquet",
                       {"training.precision": ["fp8", "bf16"], "mfu": [None, 0.4]},
                       fields=["training.precision"], metrics=["mfu"])
    (chart,) = charts(read_sweep(path))
    assert chart.note == "x positions: 0=bf16, 1=fp8"
    assert chart.series[0].x == (0.0, 1.0)
    assert chart.series[0].y[0] == 0.4 and math.isnan(chart.series[0].y[1])


def test_an_empty_sweep_is_refused(tmp_path: Path) -> None:
    path = write_sweep(tmp_path / "s.parquet", {"cluster.gpus": pa.array([], pa.int64()),
                                                "mfu": pa.array([], pa.float64())},
                       fields=["cluster.gpus"], metrics=["mfu"])
    with pytest.raises(SweepFileError, match="has no rows"):
        read_sweep(path)


@pytest.mark.slow  # a whole report: about 3 s of CPU
def test_the_report_draws_the_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_sweep(tmp_path / "s.parquet", grid([64, 512], [0, 1]),
                       fields=["cluster.gpus", "training.zero_stage"], metrics=["step_time_s"])
    code, _, err = run_main(capsys, "report", "--sweep", str(path), "--out",
                            str(tmp_path / "r.html"))
    assert code == 0, err
    assert 'data-plot="sweep-step-time-s"' in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_without_pyarrow_a_sweep_asks_for_the_data_extra(tmp_path: Path) -> None:
    path = write_sweep(tmp_path / "s.parquet", grid([8], [0]), fields=["cluster.gpus"],
                       metrics=["step_time_s"])
    probe = ("import sys; sys.modules['pyarrow'] = None\n"
             "from mlfleet.cli import main\n"
             f"sys.exit(main(['report', '--sweep', {str(path)!r}, '--out', "
             f"{str(tmp_path / 'r.html')!r}]))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: this command needs pyarrow, an optional dependency that is not installed: "
        "pip install 'mlfleet[data]'"]
    assert not (tmp_path / "r.html").exists()

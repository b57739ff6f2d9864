"""``mlfleet serving step --engine``: the kernel-built step with its terms, on the CLI."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main, run_main_json
from mlfleet.infra.accel.defaults import kernel_model
from mlfleet.infra.accel.step import transformer_step
from mlfleet.infra.accel.types import CALIBRATION_SCHEMA
from mlfleet.infra.roofline import TransformerShape

ARGS = ("serving", "step", "-w", "Llama-3-8B", "-a", "H100", "--batch", "1,8,32,128",
        "--context", "1024")
TERMS = {"time_s", "bound", "compute_s", "memory_s", "kernel_floors_s", "host_s", "sync_s",
         "n_kernels"}


def test_graph_rows_carry_the_terms_and_equal_the_step_model(
        capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_main_json(capsys, *ARGS, "--engine", "graph")["rows"]
    assert [r["batch"] for r in rows] == [1, 8, 32, 128]
    shape = TransformerShape.from_workload("Llama-3-8B")
    expected = transformer_step(kernel_model("H100", "bf16"), shape, phase="decode",
                                batch=[1, 8, 32, 128], context_len=1024, engine="graph")
    for row, t, b in zip(rows, expected.time_s, expected.bound, strict=True):
        assert set(row) >= TERMS and row["engine"] == "graph"
        assert row["time_s"] == pytest.approx(float(t), rel=1e-12)
        assert row["bound"] == b


def test_eager_is_host_bound_and_flat_at_small_batch(capsys: pytest.CaptureFixture[str]) -> None:
    """The catalog's eager issue cost (22 µs per op, 1,784 ops) outlasts a small decode step."""
    graph = run_main_json(capsys, *ARGS, "--engine", "graph")["rows"]
    eager = run_main_json(capsys, *ARGS, "--engine", "eager")["rows"]
    assert all(e["time_s"] >= g["time_s"] for e, g in zip(eager, graph, strict=True))
    assert eager[0]["bound"] == "host"
    assert eager[1]["time_s"] == pytest.approx(eager[0]["time_s"], rel=1e-12)


def test_the_table_names_the_terms(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, *ARGS, "--engine", "eager")
    assert code == 0
    for word in ("engine eager", "kernel_floors_s", "host_s", "n_kernels", "host"):
        assert word in out


def test_legacy_constants_select_the_legacy_model(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_main_json(capsys, *ARGS, "--overhead", "2ms")["rows"]
    assert "n_kernels" not in rows[0] and rows[0]["overhead_s"] == pytest.approx(2e-3)


def _calibration(tmp_path: Path, accelerator: str, *, extra_sync_s: float = 0.0) -> Path:
    base = kernel_model(accelerator, "bf16")
    model = replace(base, launch=replace(base.launch, sync_s=base.launch.sync_s + extra_sync_s))
    doc = {"schema": CALIBRATION_SCHEMA, "accelerator": model.accelerator,
           "precision": model.precision, "peak_flops_per_s": model.peak_flops_per_s,
           "mem_bw_bytes_per_s": model.mem_bw_bytes_per_s,
           "classes": {k: asdict(v) for k, v in model.classes.items()},
           "launch": asdict(model.launch)}
    path = tmp_path / f"{accelerator}.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_calibration_replaces_the_defaults(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    """A calibration with 1 ms more sync makes every step 1 ms longer."""
    base = run_main_json(capsys, *ARGS)["rows"]
    path = _calibration(tmp_path, "H100", extra_sync_s=1e-3)
    calibrated = run_main_json(capsys, *ARGS, "--calibration", str(path))["rows"]
    for b, c in zip(base, calibrated, strict=True):
        assert c["time_s"] == pytest.approx(b["time_s"] + 1e-3, rel=1e-9)


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run_cli(*ARGS, "--engine", "turbo"), "--engine", "turbo")
    assert_one_line_error(run_cli(*ARGS, "--engine", "graph", "--overhead", "2ms"),
                          "legacy step model")
    other = _calibration(tmp_path, "A100-80GB")
    assert_one_line_error(run_cli(*ARGS, "--calibration", str(other)), "calibration is for")
    missing = tmp_path / "none.json"
    assert_one_line_error(run_cli(*ARGS, "--calibration", str(missing)), "cannot read")

"""`mlfleet infra roofline` shows the kernel model's terms beside the ideal roofline."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.infra.accel.defaults import kernel_model
from mlfleet.infra.accel.op_terms import op_step
from mlfleet.infra.accel.types import CALIBRATION_SCHEMA, ENGINE_MODES, KernelModel
from mlfleet.infra.roofline import gemm

GEMM = ["infra", "roofline", "-a", "H100", "-p", "bf16", "--gemm", "8192x8192x8192"]


def test_acceptance_gemm_prints_the_model_terms() -> None:
    """Issue 17 acceptance: a prediction with its terms (compute, memory, floors, host)."""
    proc = run_cli(*GEMM)
    assert proc.returncode == 0, proc.stderr
    for fragment in ("kernel model (catalog)", "ideal roofline", "compute", "memory",
                     "kernel floor", "host (graph)", "bound"):
        assert fragment in proc.stdout, (fragment, proc.stdout)


def test_json_keeps_the_old_keys_and_adds_kernel_terms() -> None:
    proc = run_cli(*GEMM, "--engine", "eager", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    row = doc["rows"][0]
    assert {"time_s", "bound", "compute_s", "memory_s", "mfu"} <= set(row)
    assert row["kernel_class"] == "gemm" and row["kernel_bound"] == "compute"
    assert row["kernel_time_s"] > row["time_s"]  # 80 % of peak, plus the fixed term
    assert row["kernel_host_s"] == pytest.approx(22e-6)  # one eager op
    assert doc["kernel_model"]["engine"] == "eager" and doc["kernel_model"]["origin"] == "catalog"


def test_unknown_engine_is_one_line() -> None:
    assert_one_line_error(run_cli(*GEMM, "--engine", "turbo"), "turbo")


def _calibration(tmp_path: Path, model: KernelModel) -> str:
    doc = {"schema": CALIBRATION_SCHEMA, "accelerator": model.accelerator,
           "precision": model.precision, "peak_flops_per_s": model.peak_flops_per_s,
           "mem_bw_bytes_per_s": model.mem_bw_bytes_per_s,
           "classes": {c: dataclasses.asdict(p) for c, p in model.classes.items()},
           "launch": dataclasses.asdict(model.launch)}
    path = tmp_path / "calib.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_calibration_replaces_the_defaults(tmp_path: Path) -> None:
    base = kernel_model("H100", "bf16")
    half = {c: dataclasses.replace(p, compute_fraction=0.4) for c, p in base.classes.items()}
    path = _calibration(tmp_path, dataclasses.replace(base, classes=half))
    doc = json.loads(run_cli(*GEMM, "--calibration", path, "--json").stdout)
    row = doc["rows"][0]
    assert doc["kernel_model"]["origin"] == path
    assert row["kernel_compute_s"] == pytest.approx(2 * 8192**3 / (989.5e12 * 0.4))


def test_calibration_for_another_accelerator_is_one_line(tmp_path: Path) -> None:
    path = _calibration(tmp_path, kernel_model("A100", "bf16"))
    assert_one_line_error(run_cli(*GEMM, "--calibration", path), "calibration is for A100")


def test_accelerator_without_kernel_data_keeps_the_ideal_roofline() -> None:
    proc = run_cli("infra", "roofline", "-a", "TPU-v5e", "--gemm", "64x64x64", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["kernel_model"] is None and "those with data" in doc["kernel_model_null_reason"]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 16384), st.integers(1, 16384), st.integers(1, 16384),
       st.sampled_from(["H100", "A100", "H200"]))
def test_kernel_model_is_never_faster_than_the_ideal_roofline(m: int, n: int, k: int,
                                                              accelerator: str) -> None:
    model = kernel_model(accelerator, "bf16")
    cost = gemm(m, n, k, bytes_per_element=2.0)
    ideal = max(float(cost.flop) / model.peak_flops_per_s,
                float(cost.mem_bytes) / model.mem_bw_bytes_per_s)
    times = [float(op_step(model, flop=float(cost.flop), mem_bytes=float(cost.mem_bytes),
                           engine=e, gemm_rows=m)[1].time_s) for e in ENGINE_MODES]
    assert ideal <= times[0] <= times[1] <= times[2]  # graph <= eager <= framework

"""``mlfleet infra calibrate`` end to end: this host's probe -> calibration file -> a model
that predicts with it, plus the one-line errors of bad input (no partial --out file)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main
from mlfleet.infra.accel.calibration import (
    UNUSED_WARNING,
    CalibrationError,
    active_calibration,
    calibration_dict,
    read_calibration,
    using_calibration,
)
from mlfleet.infra.accel.defaults import kernel_model
from mlfleet.infra.accel.fit import KernelFit
from mlfleet.infra.accel.json_file import write_json_atomic
from mlfleet.infra.accel.probe import probe_dict, read_probe
from mlfleet.infra.accel.types import CALIBRATION_SCHEMA, PROBE_SCHEMA

REPO = Path(__file__).resolve().parents[3]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """``mlfleet ARGS`` in this process (a fresh interpreter costs seconds on a busy host)."""
    code, out, err = run_main(capsys, *args)
    return subprocess.CompletedProcess(list(args), code, out, err)


@pytest.fixture(scope="module")
def host_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A probe of this host written by `infra probe --out`, and its calibration."""
    tmp = tmp_path_factory.mktemp("calibrate")
    probe, calib = tmp / "probe.json", tmp / "calib.json"
    made = run_cli("infra", "probe", "--out", str(probe), "--rounds", "2")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"wrote {probe}")
    done = run_cli("infra", "calibrate", str(probe), "--out", str(calib))
    assert done.returncode == 0, done.stderr
    assert "gemm.compute_fraction" in done.stdout and "residual of every probe point" in done.stdout
    return probe, calib


def test_host_probe_file_has_every_section(host_files: tuple[Path, Path]) -> None:
    doc = json.loads(host_files[0].read_text())
    assert doc["schema"] == PROBE_SCHEMA and doc["device"]["accelerator"] == "host"
    for section in ("gemm", "stream", "steps"):
        assert len(doc[section]) >= 5, section
    assert {s["phase"] for s in doc["steps"]} == {"decode", "prefill"}
    assert doc["launch"]["eager_s"] > 0


def test_calibration_file_reads_back_as_a_kernel_model(host_files: tuple[Path, Path]) -> None:
    probe, calib = host_files
    doc = json.loads(calib.read_text())
    assert doc["schema"] == CALIBRATION_SCHEMA and doc["accelerator"] == "host"
    points = len(doc["residuals"])
    source = json.loads(probe.read_text())
    assert points == len(source["gemm"]) + len(source["stream"]) + len(source["steps"])
    model = read_calibration(calib)
    assert model.origin == str(calib) and model.accelerator == "host"
    assert "launch.sync_s" in doc["fitted"] and "gemm.compute_fraction" in doc["fitted"]
    for r in doc["residuals"]:
        assert r["predicted_s"] > 0 and r["measured_s"] > 0


def test_calibrate_json_lists_constants_and_residuals(host_files: tuple[Path, Path],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    proc = cli(capsys, "infra", "calibrate", str(host_files[0]), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    names = {c["name"] for c in doc["constants"]}
    assert {"gemm.compute_fraction", "stream.memory_fraction", "launch.sync_s"} <= names
    assert doc["out"] is None and doc["residuals"]


def test_roofline_predicts_with_the_host_calibration(host_files: tuple[Path, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The CPU path of issue 17: host probe -> calibrate -> infra roofline --calibration."""
    proc = cli(capsys, "infra", "roofline", "-a", "host", "-p", "fp32", "--gemm", "256x256x256",
                   "--calibration", str(host_files[1]), "--json")
    assert proc.returncode == 0, proc.stderr
    assert str(host_files[1]) in proc.stdout


def test_calibration_for_another_accelerator_is_refused(host_files: tuple[Path, Path],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    proc = cli(capsys, "infra", "roofline", "-a", "A100", "-p", "fp32", "--gemm", "256x256x256",
                   "--calibration", str(host_files[1]))
    assert_one_line_error(proc, "calibration is for host, this command uses A100")


@pytest.mark.parametrize(("edit", "fragment"), [
    ({"schema": "mlfleet.calibration/1"}, "probe schema"),
    ({"steps": [{"phase": "decode", "batch": 1, "context": 8, "engine": "turbo",
                 "seconds": 1e-3, "shape": {}}]}, "steps[0].engine"),
    ({"gemm": [{"m": 4, "n": 4, "k": 4, "seconds": -1}]}, "gemm[0].seconds"),
])
def test_bad_probe_exits_2_without_output(host_files: tuple[Path, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          edit: dict[str, object], fragment: str) -> None:
    doc = json.loads(host_files[0].read_text()) | edit
    bad, out = tmp_path / "bad.json", tmp_path / "calib.json"
    bad.write_text(json.dumps(doc))
    assert_one_line_error(cli(capsys, "infra", "calibrate", str(bad), "--out", str(out)),
                          fragment)
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_out_that_is_a_directory_is_refused(host_files: tuple[Path, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    proc = cli(capsys, "infra", "calibrate", str(host_files[0]), "--out", str(tmp_path))
    assert_one_line_error(proc, "is a directory")
    assert list(tmp_path.iterdir()) == []


def test_missing_probe_file_is_one_line(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(cli(capsys, "infra", "calibrate", str(tmp_path / "nope.json")),
                          "cannot read probe")


def test_active_calibration_follows_the_context(host_files: tuple[Path, Path]) -> None:
    assert active_calibration("host", "fp32") is None
    with using_calibration(host_files[1]) as model:
        assert active_calibration("host", "fp32") is model
        with pytest.raises(CalibrationError, match="calibration is for host, this command "
                                                   "uses H100"):
            active_calibration("H100", "fp32")
        with pytest.raises(CalibrationError, match="this command uses bf16"):
            active_calibration("host", "bf16")
        with using_calibration(None):
            assert active_calibration("host", "fp32") is model
    assert active_calibration("host", "fp32") is None


def test_catalog_aliases_name_the_same_accelerator(host_files: tuple[Path, Path]) -> None:
    model = read_calibration(host_files[1])
    with using_calibration(replace(model, accelerator="H100")):
        assert active_calibration("H100-SXM", "fp32") is not None
        assert active_calibration("h100", "fp32") is not None


@pytest.fixture(scope="module")
def h100_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A calibration of H100 bf16 holding the sourced defaults, with a slower GEMM class."""
    model = kernel_model("H100", "bf16")
    slower = replace(model.params("gemm"), compute_fraction=0.4)
    fit = KernelFit(model=replace(model, classes={**model.classes, "gemm": slower}), fitted=(),
                    residuals=())
    path = tmp_path_factory.mktemp("h100") / "h100.json"
    write_json_atomic(path, calibration_dict(fit, probe="synthetic"))
    return path


def test_serving_step_uses_the_calibration(h100_file: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    args = ("serving", "step", "-w", "Llama-3-8B", "-a", "H100", "--phase", "prefill",
            "--batch", "8", "--context", "2048", "--json")
    default, calibrated = (json.loads(cli(capsys, *a).stdout)
                           for a in (args, (*args, "--calibration", str(h100_file))))
    assert _time(calibrated) > _time(default)


def _time(doc: dict[str, Any]) -> float:
    return float(doc["rows"][0]["time_s"])


@pytest.mark.parametrize("command", [
    ("serving", "step", "-w", "Llama-3-8B", "-a", "A100", "--batch", "1"),
    ("sim", "serve", "-a", "A100", "--requests", "50"),
])
def test_other_accelerator_calibration_exits_2(h100_file: Path, command: tuple[str, ...],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    proc = cli(capsys, *command, "--calibration", str(h100_file))
    assert_one_line_error(proc, "calibration is for H100", "this command uses A100")


def test_plan_warns_when_no_model_reads_the_calibration(
        h100_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proc = cli(capsys, "plan", "--calibration", str(h100_file), "--json")
    assert proc.returncode == 0, proc.stderr
    assert UNUSED_WARNING in proc.stderr


@pytest.mark.serial
def test_ctrl_c_during_the_host_probe_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "probe.json"
    child = subprocess.Popen([str(Path(sys.executable).with_name("mlfleet")), "infra", "probe",
                              "--out", str(out), "--rounds", "1000"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(2.0)  # well into the timing rounds
    assert child.poll() is None
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130, err.decode()
    assert len(err.decode().strip().splitlines()) <= 1 and b"Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_gpu_probe_runs_end_to_end_on_cpu(tmp_path: Path) -> None:
    """benchmarks/gpu_probe.py --device cpu writes a probe that calibrate accepts."""
    out = tmp_path / "probe.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_probe.py"),
                           "--device", "cpu", "--rounds", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc == json.loads(json.dumps(probe_dict(read_probe(out))))
    calibrated = run_cli("infra", "calibrate", str(out), "--json")  # a fresh process, as a user
    assert calibrated.returncode == 0, calibrated.stderr
    assert json.loads(calibrated.stdout)["accelerator"] == "host"

"""``mlfleet ops cost``: every command on its bundled example, and one-line refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main, run_main_json

HEADER = "name,team,model,duration_h,gpu_requested,gpu_used"
WORKED = ("--gpu-price", "$2/h", "--cpu-price", "$0.05/h", "--ram-price", "$0.01/GB-h",
          "--egress-price", "$0.10", "--capacity", "gpu=8,cpu=64,ram_gb=512", "--window", "24h",
          "--overhead", "$24")


def test_allocate_prints_the_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "ops", "cost", "allocate", *WORKED)
    assert doc["breakdown"]["total_usd"] == pytest.approx(617.68, abs=1e-9)
    assert doc["charged_usd"] == pytest.approx(617.68, abs=1e-9)
    assert {c["tenant"] for c in doc["charges"]} == {"vision", "recsys"}
    code, out, _ = run_main(capsys, "ops", "cost", "allocate", *WORKED)
    assert code == 0 and "617.68" in out


@pytest.mark.parametrize("command", ["cluster", "serving", "run", "budget", "rightsize",
                                     "commit"])
def test_every_command_runs_on_its_bundled_example(capsys: pytest.CaptureFixture[str],
                                                   command: str) -> None:
    extra = ["--requests", "300"] if command == "serving" else []
    doc = run_main_json(capsys, "ops", "cost", command, *extra)
    assert doc["fidelity"] in ("model", "simulate", "run")


def test_budget_flags_the_team_running_over(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "ops", "cost", "budget", "--budget", "recsys=$12000")
    (recsys,) = doc["teams"]
    assert recsys["status"] == "over" and recsys["overrun_day"] < 30


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "alloc.csv"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("args", "fragments"), [
    (["--split", "metric:requests"], ["missing column(s) requests"]),
    (["--split", "even"], ["split(='even') is unknown"]),
    (["--capacity", "gpu=1", "--window", "1h"], ["capacity(=1 gpu-hours)"]),
    (["--capacity", "tpu=8"], ["--capacity item 'tpu=8'"]),
    (["--window", "1h"], ["--window(='1h') needs --capacity"]),
    (["--tier", "reserved-1y"], ["--tier(='reserved-1y') needs --offer"]),
    (["--offer", "nope-cloud"], ["nope-cloud"]),
    (["--gpu-price", "-$2/h"], ["-$2/h"]),
])
def test_allocate_refusals(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    path = write(tmp_path, f"{HEADER}\nj,t,m,2,1,1\n")
    assert_one_line_error(run_cli("ops", "cost", "allocate", path, *args), *fragments)


@pytest.mark.parametrize(("text", "fragments"), [
    ("name,team,duration_h,gpu_requested,gpu_used\nj,t,1,1,1\n", ["missing column(s) model"]),
    (f"{HEADER}\nj,t,m,1,1,-2\n", ["line 2", "gpu_used(='-2')"]),
])
def test_bad_allocation_files(tmp_path: Path, text: str, fragments: list[str]) -> None:
    assert_one_line_error(run_cli("ops", "cost", "allocate", write(tmp_path, text)), *fragments)


@pytest.mark.parametrize(("command", "text", "fragments"), [
    ("budget", "team,day\nt,1\n", ["missing column(s) cost_usd"]),
    ("budget", "team,day,cost_usd\nt,1,-5\n", ["line 2", "cost_usd(='-5')"]),
    ("rightsize", "name,resource,requested,used\nj,tpu,1,1\n", ["resource(='tpu')"]),
    ("commit", "hour,firm_gpus\n0,1\n", ["missing column(s) preemptible_gpus"]),
    ("serving", "model,team,workload,accelerator,qps,replicas\nm,t,Llama-3-8B,A100-80GB,x,1\n",
     ["line 2"]),
    ("run", "[1, 2]", ["want a JSON object"]),
])
def test_bad_files_of_other_commands(tmp_path: Path, command: str, text: str,
                                     fragments: list[str]) -> None:
    assert_one_line_error(run_cli("ops", "cost", command, write(tmp_path, text)), *fragments)


def test_missing_file_is_one_line() -> None:
    assert_one_line_error(run_cli("ops", "cost", "allocate", "nope.csv"), "nope.csv")

"""``mlfleet infra scheduler priority|predict``: tables, strict JSON, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main, run_main_json

WORKLOAD = str(Path(__file__).parent / "data" / "workload.csv")


def test_predict_json_backfills_short_job(capsys: pytest.CaptureFixture[str]) -> None:
    jobs = {j["name"]: j for j in run_main_json(
        capsys, "infra", "scheduler", "predict", WORKLOAD, "--nodes", "2",
        "--weight-job-size", "0")["jobs"]}
    assert jobs["short"]["started_by"] == "backfill"  # ends before the wide job's reservation
    assert jobs["long"]["start_s"] > jobs["wide"]["start_s"]  # would delay it: waits


def test_priority_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "scheduler", "priority", WORKLOAD, "--nodes", "2")
    assert code == 0 and "urgent" in out and "priority" in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["--partitions", "batch:1:1"], "urgent"),  # a workload partition that is not configured
    (["--nodes", "0"], "nodes"),
    (["--gpus-per-node", "-1"], "gpus_per_node"),
    (["--partitions", "batch:x"], "batch:x"),
    (["--nodes", "1"], "wide"),  # a two-node job on a one-node cluster
])
def test_bad_input_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("infra", "scheduler", "predict", WORKLOAD, *args), fragment)


def test_bad_workload_file(tmp_path: Path) -> None:
    bad = tmp_path / "w.csv"
    bad.write_text("name,submit_s,duration_s,time_limit_s,gpus_per_node,partition\n"
                   "a,0,10,60,-2,batch\n")
    assert_one_line_error(run_cli("infra", "scheduler", "predict", str(bad)), "gpus_per_node")
    missing = tmp_path / "m.csv"
    missing.write_text("name,submit_s\na,0\n")
    assert_one_line_error(run_cli("infra", "scheduler", "priority", str(missing)), "lacks")

"""``mlfleet infra isolation``: the table, JSON, jobs from the catalog, bad input."""

from __future__ import annotations

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main, run_main_json


def test_json_two_contending_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_main_json(capsys, "infra", "isolation", "--job", "a:intensity=1,busy=0.8",
                        "--job", "b:intensity=1,busy=0.8")
    rates = [(j["colocated_rate"], j["mig_profile"]) for j in out["jobs"]]
    assert rates == [(pytest.approx(0.625), "7g.80gb")] * 2
    assert out["mig_fits"] is False and out["memory_fits_shared"] is True


def test_catalog_workload_job_gets_its_footprint(capsys: pytest.CaptureFixture[str]) -> None:
    """Llama-3-8B decode: 16 GB of bf16 weights plus its KV cache: a 20 GB or larger
    instance; decode at batch 8 is memory-bound (a few FLOP per byte)."""
    out = run_main_json(capsys, "infra", "isolation", "--job",
                        "chat:workload=Llama-3-8B,phase=decode,batch=8,busy=0.3")
    job = out["jobs"][0]
    assert 16e9 < job["memory_bytes"] < 40e9 and job["intensity_flop_per_byte"] < 20
    assert job["mig_profile"] in ("3g.40gb", "4g.40gb")


def test_default_text_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "isolation")
    assert code == 0 and "time-sliced" in out and "MIG" in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["-a", "TPU-v5p"], "TPU-v5p"),
    (["--job", "x:intensity=1,profile=9g.1gb"], "9g.1gb"),
    (["--job", "x:intensity=-1"], "intensity"),
    (["--job", "x:busy=0.5"], "exactly one"),
    (["--job", "x:intensity=1,busy=1.5"], "busy"),
    (["--job", "nocolon"], "NAME:"),
    (["--job", "x:speed=3"], "speed"),
    (["--timeslice", "-1ms"], "--timeslice"),
])
def test_bad_input_is_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("infra", "isolation", *args), fragment)

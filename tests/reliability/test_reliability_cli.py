"""``mlfleet reliability``: the issue's example, JSON payloads and one-line errors (exit 2)."""

from __future__ import annotations

import json

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main

EXAMPLE = ["reliability", "interval", "--cluster", "H100-16k-fat-tree", "--ckpt-size", "1TB",
           "--write-bw", "100GB/s"]


def test_issue_example_in_a_real_process() -> None:
    """`mlfleet reliability interval --cluster H100-16k-fat-tree --ckpt-size 1TB
    --write-bw 100GB/s`: a 10 s checkpoint, MTBF 3.09 h, Daly's interval ~7.75 min."""
    proc = run_cli(*EXAMPLE, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["gpus"] == 16384 and doc["ckpt_s"] == pytest.approx(10.0)
    assert doc["mtbf_s"] / 3600 == pytest.approx(3.09, abs=0.01)
    assert doc["daly_interval_s"] / 60 == pytest.approx(7.75, abs=0.05)
    assert doc["young_interval_s"] > doc["daly_interval_s"]
    assert 0.85 < doc["daly_goodput"] < 0.95
    assert doc["interruption"]["usd"] > 0  # the catalog's H100 cloud price


def test_example_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, *EXAMPLE)
    assert code == 0, err
    assert "Daly interval" in out and "Young interval" in out


@pytest.mark.parametrize("command", [
    ["failures"], ["strategies"], ["predict"],
    ["policies", "--gpus", "512", "--ckpt-size", "100GB", "--write-bw", "20GB/s"]])
def test_json_payloads(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, err = run_main(capsys, "reliability", *command, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["fidelity"] == "model"


def test_policies_json_orders_sync_async_in_memory(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "reliability", "policies", "--cluster", "H100-1k-fat-tree",
                            "--workload", "Llama-3-70B", "--write-bw", "50GB/s", "--json")
    assert code == 0
    policies = json.loads(out)["policies"]
    assert [p["policy"] for p in policies] == ["sync", "async", "in-memory"]
    assert policies[1]["stall_s"] < policies[0]["stall_s"]


def test_predict_text_names_both_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "reliability", "predict")
    assert code == 0
    assert "Llama 3 405B" in out and "OPT-175B" in out and "419" in out


BAD = [
    (["interval", "--gpus", "8", "--ckpt-size", "0", "--write-bw", "1GB/s"], "--ckpt-size"),
    (["interval", "--gpus", "8", "--ckpt-size", "1TB", "--write-bw", "fast"], "fast"),
    (["interval", "--gpus", "0", "--ckpt-size", "1TB", "--write-bw", "1GB/s"], "--gpus(=0)"),
    (["interval", "--ckpt-size", "1TB", "--write-bw", "1GB/s"], "--cluster"),
    (["interval", "--cluster", "DGX-H100", "--gpus", "64", "--ckpt-size", "1TB",
      "--write-bw", "1GB/s"], "--gpus(=64)"),
    (["interval", "--cluster", "no-such", "--ckpt-size", "1TB", "--write-bw", "1GB/s"],
     "no-such"),
    (["interval", "--gpus", "8", "--ckpt-size", "1TB", "--workload", "Llama-3-8B",
      "--write-bw", "1GB/s"], "--workload"),
    (["interval", "--gpus", "8", "--ckpt-size", "1TB", "--write-bw", "1GB/s", "--mtbf", "-1h"],
     "--mtbf"),
    (["policies", "--gpus", "8", "--ckpt-size", "1TB", "--write-bw", "1GB/s", "--replicas",
      "1"], "--replicas(=1)"),
    (["failures", "--gpus", "8,x"], "--gpus"),
    (["failures", "--gpus-per-node", "0"], "--gpus-per-node(=0)"),
    (["strategies", "--gpus", "-1"], "--gpus(=-1)"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD)
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str],
                                      fragment: str) -> None:
    code, out, err = run_main(capsys, "reliability", *args)
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in err


def test_bad_input_in_a_real_process() -> None:
    assert_one_line_error(run_cli("reliability", "interval", "--gpus", "8", "--ckpt-size", "0",
                                  "--write-bw", "1GB/s"), "--ckpt-size")

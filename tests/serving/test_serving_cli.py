"""``mlfleet serving ...``: every sub-command in text and JSON, and one-line errors (exit 2).

The tests go through :func:`mlfleet.cli.main` exactly as a user's command line does.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_helpers import run_cli, run_main, run_main_json
from mlfleet.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_main(capsys, "serving", *args)


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    return run_main_json(capsys, "serving", *args)


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in ("step", "kv", "erlang", "speculative", "embedding", "tables", "replicas"):
        assert name in out


def test_step_sweeps_tp_and_batch(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "step", "-w", "Llama-3-8B", "-a", "H100", "--tp", "1,2",
                    "--batch", "1,8,64", "--context", "2048",
                    "--overhead", "0s")  # the legacy roofline: weights / bandwidth
    assert data["fidelity"] == "model" and len(data["rows"]) == 6
    first = data["rows"][0]
    assert first["tp"] == 1 and first["batch"] == 1 and first["bound"] == "memory"
    assert first["time_s"] == pytest.approx(16.33e9 / 3.35e12, rel=0.01)
    code, out, _ = run(capsys, "step", "-w", "Llama-3-8B", "--phase", "prefill",
                       "--context", "512", "--pp", "2", "--microbatches", "2",
                       "--allreduce-latency", "5us")
    assert code == 0 and "prefill step (model, engine graph)" in out


def test_kv(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "kv", "-w", "Llama-3-70B", "-a", "H100", "--tp", "8",
                    "--context", "8192")
    assert data["kv_bytes_per_token"] == 327_680
    assert data["kv_bytes_per_token_per_gpu"] == 40_960
    assert data["max_batch"] == 162 and data["fits"]
    code, out, _ = run(capsys, "kv", "-w", "Llama-3-8B")
    assert code == 0 and "131,072" in out


def test_erlang(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "erlang", "--servers", "8", "--utilization", "0.9",
                    "--service-time", "10ms", "--percentiles", "50,99")
    row = data["rows"][0]
    assert row["utilization"] == pytest.approx(0.9)
    assert row["wait_probability"] == pytest.approx(0.7015, abs=1e-4)
    assert set(row["wait_percentiles_s"]) == {"p50", "p99"}
    data = run_json(capsys, "erlang", "--servers", "4,8", "--qps", "300/s",
                    "--service-time", "10ms")
    assert [r["servers"] for r in data["rows"]] == [4, 8]
    code, out, _ = run(capsys, "erlang", "-c", "8", "--utilization", "0.5")
    assert code == 0 and "wait_p99_s" in out


def test_speculative_formula_and_model(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "speculative", "--cost-ratio", "0.05", "--alpha", "0.8",
                    "--k", "4")
    assert data["rows"][0]["speedup"] == pytest.approx((1 - 0.8**5) / (0.2 * 1.2))
    data = run_json(capsys, "speculative", "-w", "Llama-3-70B", "--draft", "Llama-3-8B",
                    "--tp", "8", "--alpha", "0.9", "--k", "2")
    assert data["rows"][0]["time_per_token_s"] > 0


def test_embedding_and_tables(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "embedding", "--shards", "1,8", "--items", "64")
    assert [r["shards"] for r in data["rows"]] == [1, 8]
    assert data["rows"][0]["gather_bytes"] == 64 * 214 * 128 * 2
    data = run_json(capsys, "tables")
    assert len(data["characteristics"]) == len(data["batching"]) == 7
    code, out, _ = run(capsys, "tables")
    assert code == 0 and "Model-specific batching" in out


def test_replicas(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "replicas", "-w", "DLRM-DCNv2", "-p", "fp16", "--qps", "50k",
                    "--peak-to-mean", "2", "--items", "64", "--slo-p99", "10ms")
    assert data["numbers"]["slo_met"] and data["fidelity"] == "model"
    code, out, _ = run(capsys, "replicas", "-w", "Llama-3-70B", "--qps", "20",
                       "--prompt-tokens", "1000", "--output-tokens", "300", "--ttft-p99", "1s",
                       "--tpot-p99", "50ms")
    assert code == 0 and "recommendation:" in out and "continuous batching" in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["step", "-w", "Llama-3-8B", "--tp", "3"], "tp(=3) must divide"),
    (["step", "-w", "Llama-3-8B", "--batch", "a,b"], "--batch 'a,b'"),
    (["step", "-w", "ResNet-50"], "needs a token workload"),
    (["step", "-w", "Llama-9"], "unknown workload name"),
    (["erlang", "--servers", "2", "--utilization", "1.2"], "utilization(=1.2)"),
    (["erlang", "--servers", "2"], "exactly one of --utilization and --qps"),
    (["erlang", "--servers", "2", "--qps", "1", "--service-time", "fast"], "'fast'"),
    (["speculative"], "--cost-ratio"),
    (["speculative", "--cost-ratio", "0.1", "--alpha", "1.5"], "alpha(=1.5)"),
    (["replicas", "-w", "Llama-3-8B", "--qps", "5"], "prompt_tokens"),
    (["kv", "-w", "Llama-3-8B", "--memory-utilization", "2"], "memory_utilization(=2)"),
])
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str],
                                      fragment: str) -> None:
    code, _, err = run(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0], lines[0]


_BASE = {"step": ["-w", "Llama-3-8B"], "kv": ["-w", "Llama-3-70B"],
         "erlang": ["--servers", "8", "--utilization", "0.5"],
         "speculative": ["--cost-ratio", "0.1"], "embedding": [], "tables": [],
         "replicas": ["-w", "Llama-3-8B", "--qps", "5", "--prompt-tokens", "100",
                      "--output-tokens", "50"]}
_OPTIONS = ["--tp", "--pp", "--batch", "--context", "--phase", "--kv-precision", "-p", "-a",
            "--servers", "--service-time", "--percentiles", "--alpha", "--k", "--items",
            "--shards", "--sharding", "--qps", "--slo-p99", "--tpot-p99", "--memory-utilization",
            "--microbatches", "--overhead"]
_VALUES = ["H100", "host-cpu", "TPU-v5p", "Mixtral-8x7B", "ResNet-50", "0", "1", "3", "8",
           "1e6", "-1", "nan", "inf", "0.5", "1.5", "2ms", "-1ms", "0s", "fp8", "fp32",
           "prefill", "row", "1,8", "50,99.9", ""]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_arguments_end_in_0_2_or_3_without_traceback(data: st.DataObject) -> None:
    """(A 1,500-example run of this fuzz found one crash — --service-time 0 — now fixed.)"""
    command = data.draw(st.sampled_from(list(_BASE)))
    tail = list(_BASE[command])
    for _ in range(data.draw(st.integers(0, 3))):
        tail += [data.draw(st.sampled_from(_OPTIONS)), data.draw(st.sampled_from(_VALUES))]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["serving", command, *tail])
    assert rc in (0, 2, 3), (tail, rc, err.getvalue())
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if rc in (2, 3):
        assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1


def test_step_that_does_not_fit_reports_it_and_exits_3() -> None:
    """Issue 10 item 12: `--batch 100000 --context 100000000` predicted 4.53 days per step."""
    proc = run_cli("serving", "step", "-w", "Llama-3-8B", "--batch", "100000", "--context",
                   "100000000", "--json")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: does not fit") and "no --tp fits" in line
    (row,) = json.loads(proc.stdout)["rows"]
    kv = 100_000 * (100_000_000 + 1) * 131_072  # Llama-3-8B: 128 KiB per token at bf16
    assert row["fits"] is False and row["min_tp_to_fit"] is None
    assert row["kv_cache_bytes"] == kv and row["need_bytes"] > kv


def test_step_names_the_smallest_tp_that_fits(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "serving", "step", "-w", "Llama-3-405B", "--tp", "16")
    (row,) = doc["rows"]
    assert row["fits"] is True and row["min_tp_to_fit"] == 16
    code, _, err = run_main(capsys, "serving", "step", "-w", "Llama-3-405B", "--tp", "8")
    assert code == 3 and "smallest --tp that fits is 16" in err


def test_kv_405b_on_one_gpu_reports_shortfall_not_negative_budget() -> None:
    """Issue 10 item 12: `serving kv -w Llama-3-405B --tp 1` printed a budget of -740 GB."""
    proc = run_cli("serving", "kv", "-w", "Llama-3-405B", "--tp", "1", "--json")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "740 GB more than the usable 72 GB" in line and "smallest --tp that fits is 16" in line
    doc = json.loads(proc.stdout)
    assert doc["kv_budget_bytes"] == 0 and doc["fits"] is False and doc["min_tp_to_fit"] == 16
    assert doc["shortfall_bytes"] == pytest.approx(405_853_388_800 * 2 + 16 * 516_096 - 72e9)


def test_replicas_without_gpus_is_unbounded_not_a_fake_pool() -> None:
    """Issue 10 item 15: no --gpus printed `headroom_gpus 999,999` (gpus_available 1000000)."""
    args = ["serving", "replicas", "-w", "Llama-3-8B", "--qps", "5", "--prompt-tokens", "100",
            "--output-tokens", "50"]
    proc = run_cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert {k: doc["numbers"][k] for k in ("gpus_available", "fits", "headroom_gpus")} == \
        {"gpus_available": None, "fits": None, "headroom_gpus": None}
    assert doc["unmet"] == [] and any("80% utilisation cap (no target)" in line
                                      for line in doc["reasoning"])
    text = run_cli(*args)
    assert "999" not in text.stdout and "unbounded" in text.stdout


def test_replicas_with_an_unreachable_ttft_says_so_and_exits_3() -> None:
    """Issue 10 item 15: `--ttft-p99 1us` said "meeting the targets" and gave p99 advice."""
    proc = run_cli("serving", "replicas", "-w", "Llama-3-8B", "--qps", "5", "--prompt-tokens",
                   "100", "--output-tokens", "50", "--ttft-p99", "1us", "--json")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: TTFT target 1 µs cannot be met at any replica count")
    doc = json.loads(proc.stdout)
    assert doc["numbers"]["slo_met"] is False and len(doc["unmet"]) == 1
    assert not any("meeting" in r or "service time" in r for r in doc["reasoning"])
    assert any("none of which meets p99 TTFT 1 µs" in r for r in doc["reasoning"])


def test_replicas_beyond_the_gpus_given_exit_3() -> None:
    proc = run_cli("serving", "replicas", "-w", "Llama-3-8B", "--qps", "5000", "--prompt-tokens",
                   "100", "--output-tokens", "50", "--gpus", "8")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "GPUs at peak but 8 are available" in line


def test_erlang_prints_zero_below_resolution(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 10 item 16: `serving erlang -c 100000` printed `1.98e-232 ns`."""
    code, out, _ = run_main(capsys, "serving", "erlang", "-c", "100000", "--utilization", "0.9")
    assert code == 0 and "e-2" not in out
    (row,) = run_main_json(capsys, "serving", "erlang", "-c", "100000", "--utilization",
                           "0.9")["rows"]
    assert row["wait_probability"] == 0.0 and row["mean_wait_s"] == 0.0


def test_speculative_that_does_not_fit_reports_it_and_exits_3() -> None:
    """Issue 10 item 12: 70B target + 8B draft on one H100 (bf16) need ~158 GB per GPU."""
    proc = run_cli("serving", "speculative", "-w", "Llama-3-70B", "--draft", "Llama-3-8B",
                   "--tp", "1", "--alpha", "0.8", "--k", "4", "--json")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: does not fit") and "smallest --tp that fits is 4" in line
    (row,) = json.loads(proc.stdout)["rows"]
    # KV per token at bf16: 2·L·n_kv·128·2 = 327,680 (70B, L=80) and 131,072 (8B, L=32);
    # the target caches 1024 + 4 + 1 tokens after verifying, the draft 1024 + 4.
    assert row["kv_cache_bytes"] == 1029 * 327_680 + 1028 * 131_072
    assert row["weight_bytes"] == pytest.approx(2 * (70.55e9 + 8.03e9), rel=2e-3)
    assert row["fits"] is False and row["min_tp_to_fit"] == 4
    assert row["shortfall_bytes"] == pytest.approx(row["need_bytes"] - 80e9)


def test_speculative_at_tp8_fits(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "speculative", "-w", "Llama-3-70B", "--draft", "Llama-3-8B",
                    "--tp", "8", "--alpha", "0.8", "--k", "4")
    (row,) = data["rows"]
    assert row["fits"] is True and row["min_tp_to_fit"] == 4 and row["shortfall_bytes"] == 0

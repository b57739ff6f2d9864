"""``mlfleet sim serve`` and ``mlfleet sim mmc``: text, JSON, scenarios, one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli_helpers import run_main, run_main_json


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_main(capsys, "sim", *args)


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    return run_main_json(capsys, "sim", *args)


def test_serve_defaults_to_a_vidur_like_llm_setup(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "serve", "-n", "300", "--slo-e2e", "20s")
    assert (doc["workload"], doc["batching"], doc["fidelity"]) == ("Llama-3-8B", "paged",
                                                                   "simulate")
    m = doc["metrics"]
    assert m["completed"] + m["rejected"] == 300 and m["ttft"]["p50_s"] > 0
    assert doc["slo"] == {"e2e_s": 20.0} and 0 < m["slo_attainment"] <= 1
    assert sum(doc["e2e_histogram"]["counts"]) == m["completed"]


def test_serve_reads_traffic_from_a_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "serve", "recsys-serving", "-n", "2000", "--batching", "dynamic",
                   "--replicas", "2", "--lb", "power_of_two", "--max-batch", "64")
    assert doc["workload"] == "DLRM-DCNv2" and doc["qps"] == 50_000
    assert doc["slo"]["e2e_s"] == pytest.approx(0.010)
    assert doc["metrics"]["completed"] == 2000


def test_serve_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "serve", "-n", "200", "--batching", "chunked", "--qps", "2")
    assert code == 0 and "TTFT" in out and "per wall-second" in out


def test_serve_replays_a_trace(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,prompt_tokens,output_tokens\n0.0,100,10\n0.5,200,20\n")
    doc = run_json(capsys, "serve", "--trace", str(trace), "--batching", "continuous")
    assert doc["requests"] == 2 and doc["arrivals"] == "trace"


def test_mmc_prints_simulated_and_erlang_c_side_by_side(
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "mmc", "--servers", "4", "--utilization", "0.8", "--requests",
                   "50000", "--seed", "2")
    stats = doc["statistics"]
    assert set(stats) == {"mean_wait_s", "p_wait", "p50_wait_s", "p99_wait_s"}
    row = stats["p_wait"]
    assert abs(row["simulated"] - row["erlang_c"]) < 3 * row["ci95_half_width"] + 0.01
    code, out, _ = run(capsys, "mmc", "--requests", "20000")
    assert code == 0 and "Erlang C" in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["serve", "--qps", "-3"], "--qps"),
    (["serve", "--qps", "fast"], "fast"),
    (["serve", "--lb", "psychic", "-n", "10"], "psychic"),
    (["serve", "-w", "ResNet-50", "--batching", "paged", "-n", "10"], "needs an LLM workload"),
    (["serve", "-w", "NoSuchModel", "-n", "10"], "NoSuchModel"),
    (["serve", "--trace", "/nonexistent/trace.csv"], "cannot be read"),
    (["serve", "--slo-ttft", "0s", "-n", "10"], "--slo-ttft"),
    (["serve", "llm-pretraining", "-n", "10"], "no serving section"),
    (["mmc", "--utilization", "1.2"], "utilization(=1.2)"),
    (["mmc", "--requests", "5"], "requests(=5)"),
    (["mmc", "--requests", str(10**12)], "must be at most"),
    (["mmc", "--seed", "-1"], "--seed"),
    (["serve", "--seed", "-1"], "--seed"),
    (["serve", "--requests", str(10**11)], "bytes per request"),
])
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[str],
                                          fragment: str) -> None:
    code, _, err = run(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0]


# --------------------------------------------------------------------------- issue 10


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_a_trace_of_random_bytes_is_one_line_naming_the_file(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace = tmp_path / "noise.csv"
    trace.write_bytes(bytes(range(256)) * 8)
    code, _, err = run(capsys, "serve", "--trace", str(trace))
    line = one_error_line(err)
    assert code == 2 and str(trace) in line and "not a UTF-8 CSV" in line
    assert "arrival_s" in line  # says what is expected


def test_an_slo_that_is_not_met_exits_3_after_the_report(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "serve", "-n", "300", "--slo-e2e", "1ms")
    assert code == 3 and "SLO e2e_p99: NOT met" in out
    assert "SLO not met: e2e_p99" in one_error_line(err) and "> 1 ms" in err


def test_an_slo_that_is_met_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "serve", "-n", "300", "--slo-e2e", "1h")
    assert code == 0 and "SLO e2e_p99: met" in out and err == ""


def test_an_overloaded_fleet_warns_instead_of_claiming_every_request_within_slo(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "serve", "-n", "2000", "--qps", "1e9")
    warnings = [line for line in err.splitlines() if line.startswith("warning: overloaded")]
    assert code == 0 and len(warnings) == 1 and len(err.splitlines()) == 1
    assert "offered 1e+09 req/s" in warnings[0] and "within SLO" not in out
    assert "no SLO set" in out
    doc = run_json(capsys, "serve", "-n", "2000", "--qps", "1e9")
    over = doc["overload"]
    assert over["offered_per_s"] == 1e9 and over["ratio"] > 1e6


@pytest.mark.parametrize("requests", ["10", "2000"])
def test_a_stable_fleet_does_not_warn(capsys: pytest.CaptureFixture[str], requests: str) -> None:
    # 10 requests: throughput is far below the 4 req/s offered (the drain dominates a short
    # run), yet latency does not grow over the run, so it is not overload
    code, _, err = run(capsys, "serve", "-n", requests)
    assert code == 0 and "overloaded" not in err


def three_request_trace(tmp_path: Path) -> Path:
    trace = tmp_path / "tr.csv"
    trace.write_text("arrival_s,prompt_tokens,output_tokens\n0,10,5\n0.5,10,5\n1.0,10,5\n")
    return trace


def test_a_trace_is_titled_with_its_own_rate_and_short_percentiles_are_na(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "serve", "--trace", str(three_request_trace(tmp_path)))
    assert code == 0 and "2 req/s (the trace's)" in out and "4 req/s" not in out
    assert "n/a (3 samples)" in out
    doc = run_json(capsys, "serve", "--trace", str(three_request_trace(tmp_path)))
    e2e = doc["metrics"]["e2e"]
    assert doc["qps"] == pytest.approx(2.0) and e2e["samples"] == 3
    assert e2e["p999_s"] is None and "needs at least 1000" in e2e["p999_s_null_reason"]
    assert e2e["p99_s"] is None and e2e["p50_s"] > 0


def test_an_slo_on_too_few_samples_is_not_judged(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "serve", "--trace", str(three_request_trace(tmp_path)),
                         "--slo-e2e", "1ms")
    assert code == 0 and "n/a (too few samples)" in out
    assert err.startswith("warning: SLO e2e_p99 not judged: 3 samples")


def test_mmc_reads_values_below_resolution_as_zero_on_both_sides(
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "mmc", "--servers", "100000", "--requests", "1000")
    for row in doc["statistics"].values():
        assert row["erlang_c"] == 0.0 and row["simulated"] == 0.0 and row["within_ci"] is True
    code, out, _ = run(capsys, "mmc", "--servers", "100000", "--requests", "1000")
    assert code == 0 and "e-23" not in out and " no " not in out


def test_mmc_says_when_a_run_is_too_short_for_its_interval() -> None:
    from mlfleet.serving.sim.mmc import judge_statistics

    rows = {"p_wait": {"simulated": 0.0, "ci95_half_width": 0.0, "erlang_c": 0.01},
            "mean_wait_s": {"simulated": 0.002, "ci95_half_width": 0.001, "erlang_c": 0.01}}
    judged = judge_statistics(rows, requests=400, batches=20)
    assert judged["p_wait"]["within_ci"] is None
    assert "do not vary" in judged["p_wait"]["within_ci_null_reason"]
    assert judged["mean_wait_s"]["within_ci"] is None
    assert "requests waited" in judged["mean_wait_s"]["within_ci_null_reason"]
    long_run = judge_statistics(rows, requests=10**6, batches=20)
    assert long_run["p_wait"]["within_ci"] is None  # still no spread: not a "no"


def test_the_memory_bound_is_what_the_available_memory_holds() -> None:
    from mlfleet.errors import InputError
    from mlfleet.host_memory import available_bytes
    from mlfleet.serving.sim.memory import check_memory

    check_memory(1000, 1000 * 600, bytes_per_request=600)  # exactly fits: no error
    with pytest.raises(InputError, match="at most 999"):
        check_memory(1000, 1000 * 600 - 1, bytes_per_request=600)
    assert available_bytes() > 0

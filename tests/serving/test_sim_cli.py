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
    (["mmc", "--requests", str(10**12)], "needs about 4e+05 GB"),
])
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[str],
                                          fragment: str) -> None:
    code, _, err = run(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0]

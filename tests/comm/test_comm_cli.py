"""`mlfleet comm ...` in real subprocesses: JSON keys, tables, and exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cli_helpers import assert_one_line_error, run_cli

CALLS = {
    "allreduce": ["comm", "allreduce", "--cluster", "DGX-H100", "--size", "64KB", "--json"],
    "flat": ["comm", "allreduce", "--alpha", "5us", "--bw", "25GB/s", "--ranks", "8",
             "--size", "1MB"],
    "crossover": ["comm", "crossover", "--cluster", "H100-1k-fat-tree", "--ranks", "16",
                  "--json"],
    "patterns": ["comm", "patterns", "--json"],
    "zero": ["comm", "zero", "--workload", "Llama-3-8B", "--gpus", "64", "--cluster",
             "H100-1k-fat-tree", "--json"],
    "bucket": ["comm", "bucket", "--alpha", "5us", "--bw", "25GB/s", "--ranks", "16",
               "--grad-size", "1GB", "--backward-time", "50ms", "--json"],
    "topology": ["comm", "topology", "--cluster", "H100-1k-fat-tree", "--ranks", "1024",
                 "--json"],
    "bad_ranks": ["comm", "allreduce", "--cluster", "DGX-H100", "--ranks", "1", "--size", "1MB"],
    "bad_size": ["comm", "crossover", "--alpha", "5us", "--bw", "25GB/s", "--ranks", "8",
                 "--max-size", "-5KB"],
    "bad_cluster": ["comm", "allreduce", "--cluster", "DGX-H1000", "--size", "1MB"],
    # issue 10 item 13: the scenario's rule, more GPUs than the catalog cluster has
    "too_many_ranks": ["comm", "allreduce", "--cluster", "H100-1k-fat-tree", "--ranks", "2048",
                       "--size", "1MB"],
    # issue 10 item 14: errors name the user's flag, and one GPU communicates nothing
    "zero_too_many_gpus": ["comm", "zero", "--workload", "Llama-3-8B", "--gpus", "16",
                           "--cluster", "DGX-H100"],
    "zero_one_gpu": ["comm", "zero", "--workload", "Llama-3-8B", "--gpus", "1", "--cluster",
                     "DGX-H100", "--json"],
}


@pytest.fixture(scope="module")
def results() -> dict[str, subprocess.CompletedProcess[str]]:
    """Every invocation, run concurrently once (each is a fresh interpreter)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_cli, *args) for name, args in CALLS.items()}
        return {name: future.result() for name, future in futures.items()}


def ok_json(results: dict[str, subprocess.CompletedProcess[str]], name: str) -> dict[str, Any]:
    proc = results[name]
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def test_allreduce_json(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    doc = ok_json(results, "allreduce")
    assert {"best", "reason", "rows", "ranks", "size_bytes", "topology", "fidelity"} <= set(doc)
    assert doc["ranks"] == 8 and doc["size_bytes"] == 64000
    assert doc["best"] == "recursive_doubling"
    assert {"algorithm", "time_s", "algbw_bytes_per_s", "busbw_bytes_per_s"} <= set(doc["rows"][0])


def test_allreduce_table_with_explicit_links(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    proc = results["flat"]
    assert proc.returncode == 0, proc.stderr
    assert "busbw" in proc.stdout and "choice: rabenseifner" in proc.stdout


def test_crossover_json(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    doc = ok_json(results, "crossover")
    assert [r["algorithm"] for r in doc["ranges"]] == ["recursive_doubling", "hierarchical",
                                                       "ring"]
    assert all({"first", "second", "size_bytes", "below"} <= set(c) for c in doc["pairwise"])


def test_patterns_json(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    doc = ok_json(results, "patterns")
    primaries = {p["family"]: p["primary"] for p in doc["patterns"]}
    assert primaries["llm"] == "allreduce" and primaries["moe"] == "alltoall"


def test_zero_json(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    doc = ok_json(results, "zero")
    assert [s["stage"] for s in doc["stages"]] == ["ddp", "zero1", "zero2", "zero3"]
    assert all("comm_time_s" in s and "fits_hbm" in s for s in doc["stages"])


def test_bucket_json(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    doc = ok_json(results, "bucket")
    assert doc["best_exposed_s"] <= doc["no_overlap_exposed_s"]
    for row in doc["rows"]:  # equal tensors: closed form and simulation agree
        assert row["exposed_s"] == pytest.approx(row["simulated_exposed_s"], rel=1e-6)


def test_topology_json(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    doc = ok_json(results, "topology")
    assert [lv["name"] for lv in doc["topology"]["levels"]] == ["node", "leaf", "spine"]
    assert set(doc["traffic"]["ring"]) == {"scaleup_bytes_per_gpu", "scaleout_bytes_per_nic",
                                           "spine_bytes_per_node"}


def test_zero_on_one_gpu_has_no_communication(
        results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    doc = ok_json(results, "zero_one_gpu")
    assert [s["comm_time_s"] for s in doc["stages"]] == [0.0] * 4
    assert [s["comm_bytes_per_gpu"] for s in doc["stages"]] == [0.0] * 4


@pytest.mark.parametrize("name, fragments", [
    ("bad_ranks", ["--ranks(=1)", ">= 2"]),
    ("too_many_ranks", ["--ranks(=2048)", "1,024 GPUs of catalog cluster H100-1k-fat-tree",
                        "--alpha"]),
    ("zero_too_many_gpus", ["--gpus(=16)", "8 GPUs of catalog cluster DGX-H100"]),
    ("bad_size", ["--max-size(='-5KB')", "> 0"]),
    ("bad_cluster", ["'DGX-H1000'", "closest"]),
])
def test_bad_input_exits_2_with_one_line(results: dict[str, subprocess.CompletedProcess[str]],
                                         name: str, fragments: list[str]) -> None:
    assert_one_line_error(results[name], *fragments)

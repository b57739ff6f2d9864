"""``mlfleet storage io|tiers|latency|small-files``: tables from the catalog, one-line errors."""

from __future__ import annotations

import pytest

from cli_helpers import run_main, run_main_json


def test_io_rows_are_rate_times_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "storage", "io", "-w", "ResNet-50,Llama-3-8B", "--gpus", "16")
    assert doc["fidelity"] == "model" and doc["gpus"] == 16
    for row in doc["rows"]:
        assert row["read_bw_bytes_per_s"] == pytest.approx(row["units_per_s"] * row["bytes_per_unit"])
    assert [r["workload"] for r in doc["rows"]] == ["ResNet-50", "Llama-3-8B"]


def test_tiers_cost_breakdown_adds_up(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "storage", "tiers", "--dataset", "1TB", "--epochs-per-month", "0")
    hot = doc["costs"][0]
    assert hot["tier"] == "object-storage" and hot["total_usd"] == pytest.approx(23.0)
    assert len(doc["break_even"]) == 2 and len(doc["auto_tiering"]) == 4


def test_latency_and_small_files_tables(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "storage", "latency", "--media", "nvme,s3")
    assert code == 0 and "small files (100 kB)" in out
    doc = run_main_json(capsys, "storage", "small-files", "--sizes", "100KB,256MB")
    small, big = doc["rows"]
    assert small["efficiency"] < 0.05 < 0.9 < big["efficiency"]


@pytest.mark.parametrize(("argv", "named"), [
    (["storage", "io", "--gpus", "0"], "--gpus(=0)"),
    (["storage", "io", "--mfu", "1.5"], "--mfu(=1.5)"),
    (["storage", "io", "--decode", "-3ms"], "--decode"),
    (["storage", "tiers", "--tiers", "nvme,s3"], "'nvme'"),
    (["storage", "tiers", "--object-size", "0"], "--object-size(='0')"),
    (["storage", "small-files", "--in-flight", "0"], "--in-flight(=0)"),
    (["storage", "latency", "--media", "floppy"], "floppy"),
    (["sim", "cache", "--size", "0"], "--size(='0')"),
    (["sim", "cache", "--trace", "zipf:beta=2"], "'beta'"),
    (["sim", "cache", "--tiers", "nvme"], "--tiers(='nvme')"),
])
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                      named: str) -> None:
    code, out, err = run_main(capsys, *argv)
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("error: ") and named in line

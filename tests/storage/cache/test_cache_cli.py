"""``mlfleet sim cache``: rows per policy and size, closed forms beside IRM traces."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from cli_helpers import run_main_json


def test_zipf_rows_carry_their_closed_form(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "sim", "cache", "--trace", "zipf:items=2000,accesses=40000",
                        "--size", "1%,100", "--seed", "3")
    assert doc["fidelity"] == "simulate" and doc["accesses"] == 40000
    rows = {(r["policy"], r["cache_blocks"]): r for r in doc["rows"]}
    assert set(rows) == {(p, s) for p in ("lru", "lfu", "arc") for s in (20, 100)}
    assert rows[("lru", 100)]["closed_form"] == "Che (IRM)"
    assert rows[("arc", 100)]["closed_form_hit_rate"] is None
    assert rows[("lru", 100)]["steady_hit_rate"] == pytest.approx(
        rows[("lru", 100)]["closed_form_hit_rate"], rel=0.05)


def test_tier_simulation_rows(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "sim", "cache", "--trace", "sequential:items=100,epochs=1",
                        "--policy", "lru", "--size", "10", "--tiers", "nvme,s3", "--prefetch", "4")
    [row] = doc["rows"]
    assert row["tier"]["slow_requests"] == 100 and row["tier"]["wasted_prefetches"] == 0
    assert row["tier"]["slow_request_usd"] == pytest.approx(100 * 4e-7)


@pytest.mark.slow
def test_ctrl_c_stops_a_long_replay_with_130() -> None:
    entry = "import sys; from mlfleet.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", entry, "sim", "cache", "--trace", "zipf:items=1e5,accesses=2e7"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(2.0)  # past the imports, inside trace generation or the replay
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["interrupted"]

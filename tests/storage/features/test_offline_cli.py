"""``mlfleet features apply`` and ``historical`` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from offline_repo_builders import copy_example

from cli_helpers import assert_one_line_error, run_cli

FEATURES = "user_stats:ctr,user_derived:ctr_pct,user_profile:age"
MLFLEET = str(Path(sys.executable).with_name("mlfleet"))


def test_apply_writes_the_registry_and_check_writes_nothing(tmp_path: Path) -> None:
    repo = copy_example(tmp_path)
    checked = run_cli("features", "apply", str(repo), "--check", "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["registry"] is None
    assert not (repo / ".mlfleet").exists()
    applied = run_cli("features", "apply", str(repo))
    assert applied.returncode == 0, applied.stderr
    assert "1 entities, 2 feature views, 1 on-demand views, 5 features" in applied.stdout
    registry = json.loads((repo / ".mlfleet" / "registry.json").read_text())
    assert [v["name"] for v in registry["feature_views"]] == ["user_stats", "user_profile"]
    assert registry["feature_views"][0]["ttl_s"] == 86400.0


def test_historical_writes_parquet_and_prints_a_summary(tmp_path: Path) -> None:
    repo = copy_example(tmp_path)
    out = tmp_path / "train.parquet"
    proc = run_cli("features", "historical", str(repo), "--entities",
                   str(repo / "data" / "entities.parquet"), "--features", FEATURES,
                   "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["rows"] == 12 and doc["head"] == []
    assert doc["columns"] == ["user_id", "event_timestamp", "ctr", "ctr_pct", "age"]
    assert pq.read_table(out).num_rows == 12


def test_historical_without_out_prints_the_first_rows(tmp_path: Path) -> None:
    repo = copy_example(tmp_path)
    proc = run_cli("features", "historical", str(repo), "--entities",
                   str(repo / "data" / "entities.parquet"), "--features", "user_stats:clicks_7d",
                   "--head", "3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("12 rows x 3 columns") and lines[1].split() == [
        "user_id", "event_timestamp", "clicks_7d"]
    assert lines[2].split() == ["1", "2025-12-31T23:00:00+00:00", "null"] and len(lines) == 5


@pytest.mark.parametrize(("case", "fragments"), [
    ("negative_ttl", ("features.yaml: feature view user_stats: ttl(='-1d') must be >= 0",)),
    ("no_timestamp", ("entity file", "has no column 'event_timestamp'")),
    ("unknown_feature", ("user_stats:nope does not exist", "known in user_stats: clicks_7d, ctr")),
    ("corrupt_parquet", ("is not a readable Parquet file",)),
    ("missing_source", ("source of feature view user_stats", "does not exist")),
])
def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path: Path, case: str,
                                                        fragments: tuple[str, ...]) -> None:
    repo = copy_example(tmp_path)
    entities, features = repo / "data" / "entities.parquet", FEATURES
    if case == "negative_ttl":
        yaml_path = repo / "features.yaml"
        yaml_path.write_text(yaml_path.read_text().replace("ttl: 1d", "ttl: -1d"))
    elif case == "no_timestamp":
        pq.write_table(pa.table({"user_id": [1, 2]}), entities)
    elif case == "unknown_feature":
        features = "user_stats:nope"
    elif case == "corrupt_parquet":
        entities.write_bytes(np.random.default_rng(7).bytes(4096))
    elif case == "missing_source":
        (repo / "data" / "user_stats.parquet").unlink()
    out = tmp_path / "out.parquet"
    proc = run_cli("features", "historical", str(repo), "--entities", str(entities),
                   "--features", features, "--out", str(out))
    assert_one_line_error(proc, *fragments)
    assert not out.exists() and not list(tmp_path.glob(".out.parquet*"))
    if case in ("negative_ttl", "missing_source"):
        assert_one_line_error(run_cli("features", "apply", str(repo)), *fragments)
        assert not (repo / ".mlfleet").exists()


def _big_repo(tmp_path: Path, *, feature_rows: int, entity_rows: int) -> Path:
    repo: Path = copy_example(tmp_path)
    rng = np.random.default_rng(3)
    stamp = pa.timestamp("us", tz="UTC")
    t0_us = 1_767_225_600 * 10**6
    event = t0_us + rng.integers(0, 30 * 86400, feature_rows) * 10**6
    pq.write_table(pa.table({
        "user_id": pa.array(rng.integers(0, 100_000, feature_rows)),
        "event_timestamp": pa.array(event, stamp), "created": pa.array(event, stamp),
        "clicks_7d": pa.array(rng.integers(0, 100, feature_rows)),
        "ctr": pa.array(rng.random(feature_rows))}), repo / "data" / "user_stats.parquet")
    pq.write_table(pa.table({
        "user_id": pa.array(rng.integers(0, 100_000, entity_rows)),
        "event_timestamp": pa.array(t0_us + rng.integers(0, 30 * 86400, entity_rows) * 10**6,
                                    stamp)}), repo / "data" / "entities.parquet")
    return repo


@pytest.mark.slow
def test_ctrl_c_stops_a_retrieval_within_a_second_and_leaves_no_file(tmp_path: Path) -> None:
    repo = _big_repo(tmp_path, feature_rows=4_000_000, entity_rows=2_000_000)
    out = tmp_path / "out.parquet"
    proc = subprocess.Popen([MLFLEET, "features", "historical", str(repo), "--entities",
                             str(repo / "data" / "entities.parquet"), "--features",
                             "user_stats:ctr,user_stats:clicks_7d", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.parquet.*.tmp")) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert proc.poll() is None, "the retrieval ended before it could be interrupted"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 3.0  # generous against the 1 s goal on a shared host
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out.parquet*"))

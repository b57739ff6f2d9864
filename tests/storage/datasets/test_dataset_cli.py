"""``mlfleet storage dataset``: every command through the CLI, bad input as one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli_helpers import run_main

CLICKS = Path(__file__).parent / "data" / "clicks"
"""The demo dataset (400 rows, three versions) the CASES rows read."""


@pytest.fixture
def clicks(tmp_path: Path) -> Path:
    path = tmp_path / "clicks"
    shutil.copytree(CLICKS, path)
    return path


def one_line_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run_main(capsys, "storage", "dataset", *args)
    assert code == 2 and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_demo_log_show_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "d")
    assert run_main(capsys, "storage", "dataset", "demo", path, "--rows", "40")[0] == 0
    code, out, _ = run_main(capsys, "storage", "dataset", "log", path, "--json")
    assert code == 0 and [v["version"] for v in json.loads(out)["versions"]] == [0, 1, 2]
    code, out, _ = run_main(capsys, "storage", "dataset", "show", path, "--version", "0", "--json")
    doc = json.loads(out)
    assert doc["rows"] == 40 and [c["name"] for c in doc["schema"]] == ["user_id", "dwell_s",
                                                                       "country"]
    code, out, _ = run_main(capsys, "storage", "dataset", "diff", path, "--from", "0", "--json")
    assert json.loads(out)["added_nullable"] == ["device"] and json.loads(out)["compatible"]
    assert not list(tmp_path.glob(".*partial"))


def test_quality_report_and_strict_gate(clicks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "storage", "dataset", "quality", str(clicks))
    assert code == 0 and "dwell_s: PSI" in out and "FAIL" in out
    code, out, err = run_main(capsys, "storage", "dataset", "quality", str(clicks), "--strict")
    assert code == 3 and "quality problem" in err
    code, out, _ = run_main(capsys, "storage", "dataset", "quality", str(clicks), "--version",
                            "0", "--json")
    assert json.loads(out)["reference_version"] is None and json.loads(out)["passed"]


def test_commit_and_refused_schema(clicks: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    pq.write_table(pa.table({"user_id": [1], "dwell_s": [2.0], "country": ["US"],
                             "device": ["web"], "session": ["s1"]}), good)
    pq.write_table(pa.table({"user_id": ["not an int"]}), bad)
    code, out, _ = run_main(capsys, "storage", "dataset", "commit", str(clicks), "--from",
                            str(good), "-m", "one more")
    assert code == 0 and "committed version 3" in out
    line = one_line_error(capsys, "commit", str(clicks), "--from", str(bad))
    assert "drops column 'dwell_s'" in line and "changes 'user_id' from int64 to string" in line
    code, out, _ = run_main(capsys, "storage", "dataset", "log", str(clicks), "--json")
    assert len(json.loads(out)["versions"]) == 4  # the refused commit made no version


def test_bad_input(clicks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet")
    assert "not a readable Parquet file" in one_line_error(
        capsys, "commit", str(clicks), "--from", str(corrupt))
    assert "does not exist" in one_line_error(capsys, "commit", str(clicks), "--from",
                                              str(tmp_path / "missing.parquet"))
    assert "holds no dataset" in one_line_error(capsys, "log", str(tmp_path))
    assert "holds no dataset" in one_line_error(capsys, "log", str(corrupt))  # a file
    rows = str(next(CLICKS.glob("*.parquet")))
    assert "is a file" in one_line_error(capsys, "commit", str(corrupt), "--from", rows)
    assert "cannot write" in one_line_error(capsys, "commit", "/proc/nope/x", "--from", rows)
    assert "version(=9)" in one_line_error(capsys, "show", str(clicks), "--version", "9")
    assert "already exists" in one_line_error(capsys, "demo", str(clicks))
    assert "--rows" in one_line_error(capsys, "demo", str(tmp_path / "n"), "--rows", "1")
    assert "cannot be created" in one_line_error(capsys, "demo", "/proc/nope", "--rows", "4")
    assert "null_rate_max" in one_line_error(capsys, "quality", str(clicks),
                                             "--null-rate-max", "2")
    assert not (tmp_path / "n").exists()


def test_lineage_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "lineage.db")
    base = ("storage", "dataset", "lineage")
    assert run_main(capsys, *base, "trained", "--db", db, "--checkpoint", "ck-7", "--dataset",
                    "clicks", "--version", "2")[0] == 0
    assert run_main(capsys, *base, "served", "--db", db, "--deployment", "ranker",
                    "--checkpoint", "ck-7")[0] == 0
    code, out, _ = run_main(capsys, *base, "show", "--db", db, "--dataset", "clicks",
                            "--version", "2")
    assert code == 0 and "clicks@2 -> ck-7" in out and "served by ranker" in out
    code, out, _ = run_main(capsys, *base, "show", "--db", db)
    assert "ranker serves ck-7 <- clicks@2" in out
    assert "--db" in one_line_error(capsys, "lineage", "show", "--db", str(tmp_path / "none"))

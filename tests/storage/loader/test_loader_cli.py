"""``mlfleet run loader``: output, bad input, and a clean stop on Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from cli_helpers import run_cli, run_main
from terminal_helpers import run_on_a_terminal

MLFLEET = str(Path(sys.executable).with_name("mlfleet"))
TINY = ["run", "loader", "--samples", "120", "--sample-bytes", "256", "--decode-cost", "0",
        "--shards", "4"]


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("mlfleet-loader-*")}


def test_json_rows_per_worker_count(tmp_path: Path) -> None:
    before = _leftovers()
    proc = run_cli(*TINY, "--workers", "1,2", "--format", "parquet", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["workers"] for r in doc["rows"]] == [1, 2]
    assert all(r["samples"] == 120 and r["samples_per_s"] > 0 for r in doc["rows"])
    assert doc["model"]["calibrated_on_workers"] == 1 and doc["dataset_dir"] is None
    assert _leftovers() <= before  # the temporary dataset is gone


def test_dir_keeps_the_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, *TINY, "--workers", "1", "--dir", str(tmp_path / "d"))
    assert code == 0, err
    assert "model err" in out and "dataset kept in" in out
    assert sorted(p.name for p in (tmp_path / "d" / "shards").iterdir())[-1] == "shard-000003.tar"


@pytest.mark.parametrize(("args", "fragment"), [
    (["--workers", "0"], "--workers"), (["--workers", "1,x"], "--workers"),
    (["--format", "csv"], "--format"), (["--samples", "0"], "--samples"),
    (["--sample-bytes", "-1KB"], "--sample-bytes"), (["--sample-bytes", "1TB"], "--sample-bytes"),
    (["--decode-cost", "5s"], "--decode-cost"), (["--decode-cost", "fast"], "fast"),
    (["--batch-size", "0"], "--batch-size"), (["--prefetch", "-1"], "--prefetch"),
    (["--shuffle-buffer", "0"], "--shuffle-buffer"), (["--shards", "0"], "--shards"),
])
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                          args: list[str], fragment: str) -> None:
    code, out, err = run_main(capsys, *TINY, *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err


def test_dir_that_is_a_file_is_refused(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("x")
    code, _, err = run_main(capsys, *TINY, "--dir", str(tmp_path / "f"))
    assert code == 2 and "--dir" in err


def test_progress_bar_on_a_terminal_only() -> None:
    args = (*TINY, "--samples", "2000", "--workers", "1")
    code, out, terminal = run_on_a_terminal(*args)
    assert code == 0, terminal
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)
    assert "samples loaded" in plain and re.search(r"100%.{0,40}\d:\d\d:\d\d", plain), plain
    assert "\x1b" not in out
    piped = run_cli(*args)
    assert piped.returncode == 0 and "samples loaded" not in piped.stderr


def _children(pid: int) -> dict[int, str]:
    """Child pid -> its start time (a pid can be reused: the start time tells them apart)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found[int(stat.parent.name)] = fields[19]
    return found


def _survivors(seen: dict[int, str]) -> list[int]:
    alive = []
    for pid, started in seen.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[19] == started:
            alive.append(pid)
    return alive


@pytest.mark.serial
@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_stops_workers_and_removes_the_dataset(signum: signal.Signals,
                                                            status: int) -> None:
    before = _leftovers()
    child = subprocess.Popen([MLFLEET, "run", "loader", "--samples", "4000", "--decode-cost",
                              "5ms", "--workers", "2"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(workers := _children(child.pid)) < 2:
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    sent = time.monotonic()
    child.send_signal(signum)
    _, err = child.communicate(timeout=30)
    assert child.returncode == status, err
    assert time.monotonic() - sent < 3.0  # generous against the 1 s goal on a shared host
    assert "Traceback" not in err.decode()
    assert not _survivors(workers)
    assert _leftovers() <= before

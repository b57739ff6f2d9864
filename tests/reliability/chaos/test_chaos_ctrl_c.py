"""Ctrl-C during a chaos run, with a replica paused: exit 130, one line at most, and
every process the run started (replicas, HAProxy) is gone — the paused one included."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow, pytest.mark.serial,
    pytest.mark.skipif(shutil.which("haproxy") is None and not os.environ.get("CI"),
                       reason="haproxy is not installed (scripts/test.sh installs it)"),
]

MLFLEET = str(Path(sys.executable).with_name("mlfleet"))


def _children(pid: int) -> dict[int, tuple[str, str]]:
    """PID -> (comm, start time) of the direct children of ``pid``."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:  # ppid
            out[int(entry.name)] = (stat.split("(", 1)[1].rsplit(")", 1)[0], fields[19])
    return out


def _same_process_alive(pid: int, comm: str, start: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] == start and fields[0] != "Z" and comm in stat


def test_ctrl_c_stops_everything() -> None:
    proc = subprocess.Popen([MLFLEET, "chaos", "--replicas", "2", "--rate", "10",
                             "--duration", "60s", "--fault", "1:stop@0.5s,cont@50s"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        children: dict[int, tuple[str, str]] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            children = _children(proc.pid)
            if any(comm == "haproxy" for comm, _ in children.values()):
                break
            time.sleep(0.1)
        assert any(comm == "haproxy" for comm, _ in children.values()), children
        time.sleep(2.0)  # load running, replica 1 paused
        proc.send_signal(signal.SIGINT)
        start = time.monotonic()
        _, err = proc.communicate(timeout=30)
        elapsed_s = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"exited {elapsed_s:.2f} s after SIGINT")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1, err
    left = [pid for pid, (comm, st) in children.items() if _same_process_alive(pid, comm, st)]
    assert not left, left

"""``mlfleet serve --replicas N --lb haproxy``: one-line errors for bad input, and a
foreground fleet that stops every process on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cli_helpers import ENTRY, assert_one_line_error, run_cli

needs_haproxy = pytest.mark.skipif(shutil.which("haproxy") is None and not os.environ.get("CI"),
                                   reason="haproxy not installed (CI installs it)")


@pytest.mark.parametrize(("args", "fragments"), [
    (["--replicas", "0"], ["--replicas(=0) must be an integer >= 1"]),
    (["--replicas", "3", "--balance", "p2c"],
     ["--balance(='p2c') is unknown", "random2, leastconn, roundrobin, hash"]),
    (["--replicas", "3", "--lb", "nginx"], ["--lb(='nginx') is unknown; known: haproxy"]),
    (["--lb", "haproxy", "--host", "0.0.0.0"], ["loopback only"]),
    (["--replicas", "2", "--record", "r.json"], ["--record"]),
])
def test_bad_fleet_options_exit_2_with_one_line(args: list[str], fragments: list[str]) -> None:
    assert_one_line_error(run_cli("serve", *args), *fragments)


def test_haproxy_missing_from_path_names_the_package(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", ENTRY, "serve", "--replicas", "2"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PATH": str(tmp_path)})
    assert_one_line_error(proc, "haproxy is not on PATH", "Debian package 'haproxy'")


def _start(*args: str) -> tuple[subprocess.Popen[str], str, list[int]]:
    """``mlfleet serve ARGS`` until it says ready; (process, URL, PIDs it announced)."""
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, "serve", *args],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "ready on" in line:
            break
    found = re.search(r"ready on (http://\S+)", "".join(lines))
    assert found, "".join(lines)
    return proc, found.group(1), [int(p) for p in re.findall(r"pid (\d+)", "".join(lines))]


@needs_haproxy
@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_foreground_fleet_stops_every_process(signum: int, code: int) -> None:
    proc, url, pids = _start("--replicas", "2", "--port", "0", "--balance", "leastconn",
                             "--device", "cpu", "--max-batch", "4")
    try:
        assert len(pids) == 3  # two replicas and HAProxy
        names = [Path(f"/proc/{p}/comm").read_text().strip() for p in pids]
        assert all(n.startswith("python") or n == "haproxy" for n in names), names
        with urllib.request.urlopen(url + "/readyz", timeout=30) as resp:
            assert resp.status == 200  # answered by a replica, through HAProxy
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == code
        assert not any(Path(f"/proc/{p}").exists() for p in pids)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _kill_left(pids)  # a SIGKILLed fleet cannot stop its replicas and HAProxy itself


def _kill_left(pids: list[int]) -> None:
    """SIGKILL what is left of the fleet's children (checking each is still ours)."""
    for pid in pids:
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("python") or name == "haproxy":
            os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its new parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@needs_haproxy
@pytest.mark.slow
def test_a_sigkilled_fleet_leader_takes_its_children_with_it() -> None:
    proc, _url, pids = _start("--replicas", "2", "--port", "0", "--device", "cpu",
                              "--max-batch", "4")
    try:
        assert len(pids) == 3
        proc.kill()  # SIGKILL: the leader cannot stop anything itself
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and any(_running(p) for p in pids):
            time.sleep(0.05)
        assert [p for p in pids if _running(p)] == []  # PR_SET_PDEATHSIG did it
    finally:
        _kill_left(pids)

"""A real fleet: replicas and HAProxy start, answer, survive a replica's death, restart,
and every process is gone afterwards, including after each kind of failed start."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from mlfleet.errors import RunError
from mlfleet.serving.fleet.launcher import Fleet
from mlfleet.serving.fleet.spec import FleetSpec

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None and not os.environ.get("CI"),
                                reason="haproxy not installed (CI installs it)")
SMALL = ("--device", "cpu", "--max-batch", "4")


def children() -> set[int]:
    """PIDs whose parent is this test process (from /proc/PID/stat)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                out.add(int(entry.name))
    return out


def rank(url: str, user: int = 1) -> int:
    req = urllib.request.Request(url + "/v1/rank", data=json.dumps(
        {"user": user, "items": [1, 2, 3]}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()
        return int(resp.status)


def wait_all_up(fleet: Fleet, *, limit_s: float = 60.0) -> list[str]:
    """Poll HAProxy until every server is UP (bounded, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        states = [s.status for s in fleet.stats()]
        if all(s == "UP" for s in states):
            return states
        time.sleep(0.1)
    return [s.status for s in fleet.stats()]


@pytest.mark.slow
def test_fleet_serves_spreads_survives_a_kill_and_leaves_nothing() -> None:
    before = children()
    with Fleet.start(FleetSpec(replicas=2, balance="roundrobin", server_args=SMALL)) as fleet:
        pids = [r.pid for r in fleet.replicas] + [fleet.haproxy_pid]
        workdir = fleet.workdir
        assert fleet.url.startswith("http://127.0.0.1:")
        assert "balance roundrobin" in fleet.config_text
        assert [rank(fleet.url) for _ in range(20)] == [200] * 20
        assert [s.sessions_total for s in fleet.stats()] == [10, 10]  # strict rotation
        fleet.replicas[1].kill(signal.SIGKILL)
        assert not fleet.replicas[1].alive()
        # Retried on the other replica (redispatch), never an error to the client.
        assert [rank(fleet.url) for _ in range(20)] == [200] * 20
        fleet.replicas[1].restart()
        assert fleet.replicas[1].alive() and fleet.replicas[1].pid not in pids
        assert wait_all_up(fleet) == ["UP", "UP"]
    assert children() - before == set()
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert not workdir.exists()


@pytest.mark.slow
@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"server_args": ("--torch-threads", "0")}, "exited before it was ready"),
    ({"ready_timeout_s": 0.05}, "not ready within 0.05 s"),
    ({"haproxy_extra": ("no-such-directive on",)}, "HAProxy exited at start"),
])
def test_a_failed_start_leaves_no_process_behind(overrides: dict[str, object],
                                                 fragment: str) -> None:
    before = children()
    spec = FleetSpec(**{"replicas": 2, "server_args": SMALL, **overrides})  # type: ignore[arg-type]
    with pytest.raises(RunError) as err, Fleet.start(spec):
        pytest.fail("the fleet should not have started")
    assert fragment in str(err.value)
    assert children() - before == set()


@pytest.mark.slow
def test_an_error_inside_the_block_stops_everything() -> None:
    before = children()
    with pytest.raises(ZeroDivisionError), \
            Fleet.start(FleetSpec(replicas=1, server_args=SMALL)) as fleet:
        pids = [fleet.replicas[0].pid, fleet.haproxy_pid]
        fleet.replicas[0].kill(signal.SIGSTOP)  # even a paused replica is stopped
        _ = 1 / 0
    assert children() - before == set()
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)

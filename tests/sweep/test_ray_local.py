"""A sweep of real simulations on a real local Ray (mlfleet.sweep.ray_backend).

Each ``run_points`` call starts its own Ray (about 2 s and 740 MB) and stops it, so
the module keeps to two starts plus one interrupted run in a child process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlfleet import api
from mlfleet.errors import InputError, RunError
from mlfleet.sweep.ray_backend import call_point, ray_session, run_points, session_processes

if not os.environ.get("CI"):  # in CI the ray extra is installed: a missing ray fails
    pytest.importorskip("ray")
pytestmark = pytest.mark.slow

SERVING = "mlfleet.sweep.points:serving_point"
CLUSTER = "mlfleet.sweep.points:cluster_point"


@contextlib.contextmanager
def private_tmp() -> Iterator[str]:
    """A short private directory under /tmp as the temporary root, for Ray's session (its
    socket paths must stay under 107 bytes, which a pytest tmp_path would exceed); on
    the way out no process of the session may be left and the directory must be empty."""
    root = tempfile.mkdtemp(prefix="rt-", dir="/tmp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", root)
        yield root
    assert session_processes(root) == [], "a Ray process outlived the sweep"
    os.rmdir(root)  # empty: run_points removed its session directory


@pytest.fixture
def ray_tmp() -> Iterator[str]:
    with private_tmp() as root:
        yield root


def test_serving_sweep_on_ray_equals_in_process(ray_tmp: str) -> None:
    points = [{"qps": qps, "replicas": replicas, "requests": 400, "seed": 7}
              for qps in (1.0, 3.0) for replicas in (1, 2)]
    seen: list[int] = []
    on_ray = run_points(SERVING, points, num_cpus=2, progress=seen.append)
    assert on_ray == [call_point(SERVING, p) for p in points]  # seeded: bit for bit
    assert seen == [1, 2, 3, 4]
    assert on_ray[0]["completed"] == 400


@pytest.fixture(scope="module")
def shared_ray() -> Iterator[None]:
    """One local Ray for several sweeps (``run_points`` uses a Ray already initialised)."""
    with private_tmp(), ray_session(address=None, num_cpus=1):
        yield


def test_a_failing_point_is_named_and_keeps_its_kind(shared_ray: None) -> None:
    points: list[dict[str, Any]] = [{"requests": 300}, {"requests": "many"}]
    with pytest.raises(RunError, match=r"point 1 \{'requests': 'many'\} failed: ValueError"):
        run_points(SERVING, points)
    points = [{"policy": "fifo", "nodes": 16}, {"policy": "no-such-policy"}]
    with pytest.raises(InputError, match=r"point 1 \{'policy': 'no-such-policy'\}"):
        run_points(CLUSTER, points)


def test_api_sweep_points_on_a_running_ray(shared_ray: None) -> None:
    points = [{"policy": policy} for policy in ("fifo", "tiresias")]
    result = api.sweep_points(CLUSTER, points)
    assert result.rows() == [{**p, **call_point(CLUSTER, p)} for p in points]
    assert result.to_arrow().num_rows == 2


def test_bad_arguments_are_refused_before_ray_starts() -> None:
    with pytest.raises(InputError, match="module:function"):
        run_points("no_colon", [{}])
    with pytest.raises(InputError, match="no function 'nope'"):
        run_points("mlfleet.sweep.points:nope", [{}])
    with pytest.raises(InputError, match=r"num_cpus\(=0\)"):
        run_points(SERVING, [{}], num_cpus=0)
    with pytest.raises(InputError, match=r"address\(='head'\) must be HOST:PORT"):
        run_points(SERVING, [{}], address="head")
    with pytest.raises(RunError, match="cannot reach the Ray cluster at 127.0.0.1:1"):
        run_points(SERVING, [{}], address="127.0.0.1:1")  # port 1: nothing listens
    assert run_points(SERVING, []) == []


INTERRUPTED = """
import sys, tempfile
tempfile.tempdir = sys.argv[1]
from mlfleet.sweep.ray_backend import run_points
points = [{"requests": 400000, "qps": 2.0, "seed": s} for s in range(40)]
try:
    run_points("mlfleet.sweep.points:serving_point", points, num_cpus=2)
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_cancels_tasks_and_stops_ray(ray_tmp: str, signum: int) -> None:
    child = subprocess.Popen([sys.executable, "-c", INTERRUPTED, ray_tmp])
    try:
        _wait_for_workers(ray_tmp)
        child.send_signal(signum)
        sent = time.monotonic()
        assert child.wait(timeout=30) == 128 + signum  # SIGTERM: no handler, exits 143
        print(f"stopped {time.monotonic() - sent:.2f} s after {signal.Signals(signum).name}")
    finally:
        child.kill()
        child.wait()
    assert not any(Path(ray_tmp).iterdir()), "the session directory was left behind"


def _wait_for_workers(root: str) -> None:
    """Until a Ray worker runs a point (its title turns ``ray::call_point``), at most 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for pid in session_processes(root):
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::call_point"):
                    return
        time.sleep(0.1)
    raise AssertionError("no Ray worker ran a point within 60 s")

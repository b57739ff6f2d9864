"""A sweep on a real multi-host Ray cluster: head and two workers in `mlfleet lab` hosts.

Each Ray node runs in its own network namespace (a lab host, its own IP on the lab's
bridge), started with ``nsenter --net`` (not ``ip netns exec``, which remounts /sys);
the nodes reach each other only over the lab network. The driver runs in a fourth host
and reaches the GCS over the lab network; it attaches to the head's raylet through its
Unix sockets (Ray looks for a "local" raylet in the process table, which the namespaces
share; see docs/sweep.md). The namespaces share the file system and the PID space, so
every node gets its own
``--temp-dir`` and the teardown kills the processes of those directories (and their
``ray::…`` children) by PID: ``ray stop`` would kill every Ray on the machine,
including other users' clusters. Needs root; about 1.2 GB of memory for three nodes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlfleet.comm.lab import Lab, LabHost
from mlfleet.comm.lab import state as lab_state
from mlfleet.sweep.ray_backend import RAY_ENV, call_point, session_processes, stop_processes

if not os.environ.get("CI"):  # in CI the ray extra is installed: a missing ray fails
    pytest.importorskip("ray")
pytestmark = [
    pytest.mark.slow, pytest.mark.serial, pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None
                       or shutil.which("nsenter") is None,
                       reason="the lab needs root, iproute2 and nsenter"),
]

GCS_PORT = 6379  # each namespace has its own port space: nothing else listens there
RAY = str(Path(sys.executable).parent / "ray")
SERVING = "mlfleet.sweep.points:serving_point"
DRIVER = """
import json, sys
from mlfleet.sweep.ray_backend import run_points
points = json.loads(sys.argv[2])
print(json.dumps(run_points("mlfleet.sweep.points:located_point", points, address=sys.argv[1])))
"""


@pytest.fixture
def ray_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A short directory under /tmp for the nodes' sessions (socket paths < 107 bytes);
    every process of the cluster is killed and the directory removed on the way out."""
    monkeypatch.setenv(lab_state.STATE_DIR_ENV, str(tmp_path / "labs"))
    root = tempfile.mkdtemp(prefix="rl-", dir="/tmp")
    try:
        yield root
    finally:
        stop_processes(root)
        assert session_processes(root) == [], "a Ray process of the cluster outlived it"
        shutil.rmtree(root, ignore_errors=True)


def _in(host: LabHost, *argv: str, env: dict[str, str],
        timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["nsenter", f"--net=/var/run/netns/{host.namespace}", *argv],
                          env=env, capture_output=True, text=True, timeout=timeout_s,
                          check=False)
    assert proc.returncode == 0, (argv, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


def _start_cluster(head: LabHost, workers: list[LabHost], root: str,
                   env: dict[str, str]) -> str:
    common = ["--num-cpus=1", "--disable-usage-stats"]
    _in(head, RAY, "start", "--head", f"--node-ip-address={head.ip}", f"--port={GCS_PORT}",
        "--include-dashboard=false", f"--temp-dir={root}/head", *common, env=env)
    address = f"{head.ip}:{GCS_PORT}"
    for i, worker in enumerate(workers):
        _in(worker, RAY, "start", f"--address={address}", f"--node-ip-address={worker.ip}",
            f"--temp-dir={root}/w{i}", *common, env=env)
    return address


def _rss_bytes(pids: list[int]) -> int:
    """Resident memory of ``pids`` together (shared pages counted in each)."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) * 1024 for line in status.splitlines()
                     if line.startswith("VmRSS:"))
    return total


def test_sweep_runs_on_a_head_and_two_workers_in_lab_hosts(ray_root: str) -> None:
    env = {**os.environ, **RAY_ENV, "HOME": ray_root}
    points: list[dict[str, Any]] = [{"qps": qps, "requests": 20000, "seed": seed}
                                    for qps in (2.0, 4.0, 6.0) for seed in (1, 2)]
    with Lab(hosts=4, rate_bytes_per_s=1.25e9) as lab:
        head, w0, w1, driver = lab.hosts
        address = _start_cluster(head, [w0, w1], ray_root, env)
        located = json.dumps([{"func": SERVING, **p} for p in points])
        out = _in(driver, sys.executable, "-c", DRIVER, address, located, env=env).stdout
        results = json.loads(out.strip().splitlines()[-1])
        print(f"cluster resident memory: {_rss_bytes(session_processes(ray_root)) / 1e9:.2f} GB")
        stop_processes(ray_root)
    node_ips = {r.pop("node_ip") for r in results}
    for r in results:
        del r["node_id"], r["pid"]
    print(f"tasks ran on {sorted(node_ips)}")
    assert len(node_ips) >= 2 and node_ips <= {head.ip, w0.ip, w1.ip}
    assert results == [call_point(SERVING, p) for p in points]  # seeded: bit for bit

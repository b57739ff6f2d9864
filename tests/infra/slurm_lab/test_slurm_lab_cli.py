"""``mlfleet lab slurm up|status|down`` from the shell: bad input, no root, Ctrl-C, and a
``down`` that leaves no daemon, namespace or directory behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slurm_lab_support import (
    NOTHING,
    lab_processes,
    leftovers,
    namespace_inodes,
    require_slurm,
    state_dirs,
)

from cli_helpers import ENTRY, assert_one_line_error, run_cli
from mlfleet.infra.slurm_lab import state as slurm_state

__all__ = ["state_dirs"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["--hosts", "0"], "--hosts(=0)"), (["--hosts", "65"], "--hosts(=65)"),
    (["--hosts", "2", "--gpus-per-host", "-1"], "--gpus-per-host(=-1)"),
])
def test_bad_input_exits_2_before_starting_anything(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("lab", "slurm", "up", *args), fragment)


def test_without_root_one_line_exit_1() -> None:
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv is needed to drop root")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    proc = subprocess.run([*prefix, sys.executable, "-c", ENTRY, "lab", "slurm", "up",
                           "--hosts", "2"], capture_output=True, text=True, timeout=60,
                          check=False, env={**os.environ, "HOME": "/tmp"})
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs root" in lines[0] and "Traceback" not in proc.stderr


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True, text=True,
                          timeout=180, check=False, env=env)


@pytest.mark.root
@pytest.mark.serial
@pytest.mark.slow
def test_up_status_down_leaves_nothing(state_dirs: Path) -> None:
    require_slurm()
    env = dict(os.environ)
    up = _cli("lab", "slurm", "up", "--hosts", "2", "--accounting", env=env)
    assert up.returncode == 0, up.stderr
    info = json.loads(_cli("lab", "slurm", "status", "--json", env=env).stdout)["lab"]
    assert info["status"] == "up" and info["accounting"]
    assert "idle" in _cli("lab", "slurm", "status", env=env).stdout
    found = slurm_state.read()
    assert found is not None
    inodes = namespace_inodes(found.namespaces)
    assert any(p.endswith(":slurmctld") for p in lab_processes(found.root, inodes))
    down = _cli("lab", "slurm", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert leftovers(info["root"], found.namespaces, inodes) == NOTHING
    assert slurm_state.read() is None
    again = _cli("lab", "slurm", "down", env=env)
    assert again.returncode == 2 and "no Slurm lab" in again.stderr


@pytest.mark.root
@pytest.mark.serial
@pytest.mark.slow
def test_ctrl_c_during_up_cleans_up(state_dirs: Path) -> None:
    require_slurm()
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, "lab", "slurm", "up", "--hosts", "2",
                             "--accounting"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    state = None
    while time.monotonic() < deadline:  # interrupt once the daemons are being started
        state = slurm_state.read()
        if state is not None and state.namespaces and \
                (Path(state.root) / "etc" / "slurm.conf").exists():
            break
        time.sleep(0.02)
    assert state is not None and state.status == "creating"
    inodes = namespace_inodes(state.namespaces)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert leftovers(state.root, state.namespaces, inodes) == NOTHING
    assert slurm_state.read() is None

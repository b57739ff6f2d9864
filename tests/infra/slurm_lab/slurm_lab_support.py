"""Support for the real-Slurm tests: when they may run, and what "nothing left" means."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlfleet.comm.lab import state as lab_state
from mlfleet.infra.slurm_lab import cluster
from mlfleet.infra.slurm_lab import state as slurm_state
from mlfleet.infra.slurm_lab.cluster import BINARIES, DB_BINARIES


def require_slurm() -> None:
    """Skip without root (the lab's convention); without the binaries skip locally but
    fail under CI (scripts/test.sh installs them)."""
    if os.geteuid() != 0:
        pytest.skip("the Slurm lab needs root")
    missing = [b for b in BINARIES + DB_BINARIES if shutil.which(b) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} not installed (scripts/test.sh installs them)")
        pytest.skip(f"{', '.join(missing)} not installed")


def namespace_inodes(namespaces: tuple[str, ...]) -> set[int]:
    """Inode of each existing lab namespace: a process keeps its namespace's inode even
    after the namespace's name is deleted, so this finds the lab's processes later."""
    found = set()
    for name in namespaces:
        try:
            found.add(os.stat(f"/var/run/netns/{name}").st_ino)
        except OSError:
            continue
    return found


def lab_processes(root: str, inodes: set[int]) -> list[str]:
    """Live (not zombie) processes in one of the lab's namespaces or naming its directory,
    plus any Slurm, munge or MariaDB daemon among them, as ``pid:comm``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            net = os.readlink(proc / "ns" / "net")
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            comm = (proc / "comm").read_text().strip()
        except OSError:
            continue
        in_lab = any(net == f"net:[{ino}]" for ino in inodes) or root in cmdline
        if state != "Z" and in_lab:
            found.append(f"{proc.name}:{comm}")
    return found


def leftovers(root: str, namespaces: tuple[str, ...], inodes: set[int]) -> dict[str, object]:
    """Whatever of a lab still exists: its processes, namespaces and directory."""
    present = set(os.listdir("/var/run/netns")) if os.path.isdir("/var/run/netns") else set()
    return {"processes": lab_processes(root, inodes),
            "namespaces": sorted(set(namespaces) & present),
            "root_exists": os.path.exists(root)}


NOTHING: dict[str, object] = {"processes": [], "namespaces": [], "root_exists": False}


@pytest.fixture
def state_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Lab state files in the test's own directory; a lab a failed test left is removed."""
    monkeypatch.setenv(lab_state.STATE_DIR_ENV, str(tmp_path / "labs"))
    monkeypatch.setenv(slurm_state.STATE_DIR_ENV, str(tmp_path / "slurm"))
    yield tmp_path
    left = slurm_state.read()
    if left is not None:
        cluster.teardown(left)

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

DAEMONS = ("slurmctld", "slurmd", "slurmstepd", "munged", "mariadbd", "slurmdbd")


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


def live_daemons() -> list[str]:
    """Running (not zombie) Slurm, munge and MariaDB processes on this machine."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if comm in DAEMONS and state != "Z":
            found.append(f"{proc.name}:{comm}")
    return found


def leftovers(root: str, namespaces: tuple[str, ...]) -> dict[str, object]:
    """Whatever of a lab still exists: processes, namespaces, its directory."""
    present = set(os.listdir("/var/run/netns")) if os.path.isdir("/var/run/netns") else set()
    return {"daemons": live_daemons(), "namespaces": sorted(set(namespaces) & present),
            "root_exists": os.path.exists(root)}


NOTHING: dict[str, object] = {"daemons": [], "namespaces": [], "root_exists": False}


@pytest.fixture
def state_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Lab state files in the test's own directory; a lab a failed test left is removed."""
    monkeypatch.setenv(lab_state.STATE_DIR_ENV, str(tmp_path / "labs"))
    monkeypatch.setenv(slurm_state.STATE_DIR_ENV, str(tmp_path / "slurm"))
    yield tmp_path
    left = slurm_state.read()
    if left is not None:
        cluster.teardown(left)

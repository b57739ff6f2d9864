"""A sandbox in which ``serve`` and ``lab hosts up/down`` run their real validation but
start nothing: the last step of each (binding the server, creating or deleting network
namespaces) is replaced by a recorder, so the CLI fuzz can feed them any option value.

What stays real: every click conversion, ``ServerConfig``, ``make_policy``, the device
check, ``Lab``/``new_state``, the state files (in a scratch ``MLFLEET_LAB_STATE_DIR``),
``down``/``down_all`` and their bookkeeping. What is recorded instead of done:
``serve(config)``, ``_apply_process_settings`` (torch threads, switch interval are
process-wide), and the ``ip``/``tc`` calls (``require_privileges``, ``build_topology``,
``apply_shaping``, ``list_namespaces``, ``delete_namespaces``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mlfleet.comm.lab import netns, shaping
from mlfleet.comm.lab.state import STATE_DIR_ENV, LabState, list_states
from mlfleet.infra.slurm_lab.state import STATE_DIR_ENV as SLURM_STATE_DIR_ENV
from mlfleet.serving.server import cli as server_cli
from mlfleet.serving.server.config import ServerConfig


@dataclass
class WouldStart:
    """What the sandboxed commands would have done."""

    servers: list[ServerConfig] = field(default_factory=list)
    """Configs ``serve`` would have bound."""
    torch_threads: list[int] = field(default_factory=list)
    """Thread counts ``serve`` would have set process-wide."""
    labs: list[str] = field(default_factory=list)
    """Names of the labs ``lab hosts up`` would have built."""
    deleted_namespaces: list[str] = field(default_factory=list)
    """Namespaces ``lab hosts down`` would have deleted."""
    fleets: list[Any] = field(default_factory=list)
    """Fleet specs ``serve --replicas N`` would have started (replicas behind HAProxy)."""


SENTINEL = "mfl-f0220f-h0"
"""A namespace named like a crashed lab's leftover: a real ``lab hosts down --all --force``
deletes it, no other test does (they never force), so it must outlive the sandbox."""


def ip_netns_list() -> set[str]:
    """This machine's network namespaces (``ip netns list``); empty without iproute2."""
    if shutil.which("ip") is None:
        return set()
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                         check=False).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


@contextlib.contextmanager
def untouched_machine(state_dir: Path) -> Iterator[None]:
    """Assert that the sandbox neither deletes a namespace nor creates one.

    Root tests elsewhere may add and remove their own labs meanwhile, so instead of
    comparing whole ``ip netns list`` snapshots: a sentinel lab leftover (made when this
    process may) must survive, and no namespace of a lab in ``state_dir`` may exist.
    """
    made = os.geteuid() == 0 and shutil.which("ip") is not None and (
        subprocess.run(["ip", "netns", "add", SENTINEL], capture_output=True,
                       check=False).returncode == 0)
    try:
        yield
        present = ip_netns_list()
        assert not made or SENTINEL in present, "the sandbox let a namespace be deleted"
        ours = {f"mfl-{s.lab_id}-" for s in _states(state_dir)}
        created = sorted(ns for ns in present if ns.startswith(tuple(ours)))
        assert not ours or not created, f"the sandbox let namespaces be created: {created}"
    finally:
        if made:
            subprocess.run(["ip", "netns", "delete", SENTINEL], capture_output=True,
                           check=False)


def _states(state_dir: Path) -> list[LabState]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STATE_DIR_ENV, str(state_dir))
        return list_states()


@contextlib.contextmanager
def sandbox(state_dir: Path) -> Iterator[WouldStart]:
    """Patch the starting steps to recorders and the lab state directory to ``state_dir``."""
    record = WouldStart()

    async def fake_serve(config: ServerConfig, *, announce: bool = True,
                         **_: Any) -> None:
        record.servers.append(config)

    def fake_build(state: LabState, runner: Any = None) -> None:
        record.labs.append(state.name)

    def fake_shaping(links: Any, config: Any, runner: Any = None) -> None:
        return None

    def fake_delete(names: Sequence[str], runner: Any = None) -> None:
        record.deleted_namespaces.extend(names)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server_cli, "serve", fake_serve)
        patch.setattr(server_cli, "serve_fleet", record.fleets.append)
        patch.setattr(server_cli, "_apply_process_settings", record.torch_threads.append)
        patch.setattr(netns, "require_privileges", lambda: None)
        patch.setattr(netns, "build_topology", fake_build)
        patch.setattr(shaping, "apply_shaping", fake_shaping)
        patch.setattr(netns, "list_namespaces", lambda runner=None: [])
        patch.setattr(netns, "delete_namespaces", fake_delete)
        patch.setenv(STATE_DIR_ENV, str(state_dir))
        # `lab slurm down` must never find (and tear down) a real Slurm lab.
        patch.setenv(SLURM_STATE_DIR_ENV, str(state_dir / "slurm"))
        yield record

"""Bring a real Slurm up on the namespace lab, and take every piece of it down again.

``up``: a network lab (``mlfleet lab hosts``) of N hosts; a temporary directory holding
configs, munge key, spool, state, database and logs; then, in host 0's namespace,
munged, (with accounting) MariaDB, slurmdbd and the ``sacctmgr`` accounts, slurmctld;
and one slurmd per host in that host's namespace. ``down``: cancel every job, wait for
the queue to drain (a slurmstepd may ignore SIGTERM otherwise), stop every process in
the lab's namespaces, delete the namespaces, the directory and the state file. A
failure or Ctrl-C during ``up`` runs ``down`` before the error propagates.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from mlfleet.comm.lab import lab as lab_mod
from mlfleet.comm.lab import state as lab_state_mod
from mlfleet.errors import InputError, RunError
from mlfleet.infra.scheduling.slurm.config import SlurmConfig
from mlfleet.infra.slurm_lab import config as conf
from mlfleet.infra.slurm_lab import database, processes
from mlfleet.infra.slurm_lab import state as state_mod
from mlfleet.infra.slurm_lab.database import AccountSpec
from mlfleet.infra.slurm_lab.state import SlurmLabState

LINK_RATE_BYTES_PER_S = 125e6
"""1 Gbit/s lab links: Slurm's control traffic never comes near it."""
BINARIES = ("slurmctld", "slurmd", "munged", "mungekey", "nsenter", "ip", "sinfo", "sbatch")
DB_BINARIES = ("mariadbd", "mariadb-install-db", "slurmdbd", "sacctmgr")


def require_root(*, accounting: bool) -> None:
    """RunError (one line, exit 1) without root or without the Slurm packages."""
    if os.geteuid() != 0:
        raise RunError("the Slurm lab needs root (network namespaces, daemons as root); "
                       "run it as root, e.g. sudo mlfleet lab slurm up")
    wanted = BINARIES + (DB_BINARIES if accounting else ())
    missing = [b for b in wanted if shutil.which(b) is None]
    if missing:
        raise RunError(f"the Slurm lab needs {', '.join(missing)} on PATH; install "
                       "slurm-wlm munge (and slurmdbd mariadb-server for --accounting)")


def client_env(state: SlurmLabState) -> dict[str, str]:
    """Environment for Slurm clients: the lab's slurm.conf."""
    return {"SLURM_CONF": str(state.slurm_conf)}


def up(*, config: SlurmConfig, hosts: int, accounting: bool = False,
       accounts: Sequence[AccountSpec] = ()) -> SlurmLabState:
    """Start a Slurm lab of ``hosts`` nodes described by ``config``; returns its state."""
    if not 2 <= hosts <= lab_mod.MAX_HOSTS or hosts != config.nodes:
        raise InputError(f"hosts(={hosts}) must be between 2 and {lab_mod.MAX_HOSTS} and "
                         f"equal the config's nodes ({config.nodes})")
    require_root(accounting=accounting)
    net = lab_mod.Lab(hosts=hosts, rate_bytes_per_s=LINK_RATE_BYTES_PER_S, keep=True)
    root = Path(tempfile.mkdtemp(prefix="mlfleet-slurm-"))
    state = SlurmLabState(root=str(root), lab_name=net.name, control_namespace="",
                          namespaces=(), host_ips=(), gpus_per_host=config.gpus_per_node,
                          accounting=accounting)
    try:
        state_mod.claim(state)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        lab = net.up()
        state = dataclasses.replace(
            state, control_namespace=lab.hosts[0].namespace,
            namespaces=tuple(h.namespace for h in lab.hosts) + (lab.switch_namespace,),
            host_ips=tuple(h.ip for h in lab.hosts))
        state_mod.write(state)
        _start_all(state, config, accounts)
    except BaseException:
        teardown(state)
        raise
    state = dataclasses.replace(state, status="up")
    state_mod.write(state)
    return state


def _start_all(state: SlurmLabState, config: SlurmConfig,
               accounts: Sequence[AccountSpec]) -> None:
    layout = conf.LabLayout(root=Path(state.root))
    _write_files(state, config, layout)
    _start_munge(state, layout)
    if state.accounting:
        database.start(state, layout)
        database.add_accounts(state, accounts)
    ctl_log = layout.log_dir / "slurmctld.out"
    processes.start(state.control_namespace, ["slurmctld", "-D", "-c"], log=ctl_log,
                    env=client_env(state))
    processes.wait_until("slurmctld", lambda: _answers(state, ["scontrol", "ping"], "UP"),
                         timeout_s=30, log=layout.log_dir / "slurmctld.log")
    for i, ns in enumerate(state.namespaces[:len(state.host_ips)]):
        processes.start(ns, ["slurmd", "-D", "-N", conf.node_name(i)],
                        log=layout.log_dir / f"slurmd-{i}.out", env=client_env(state))
    processes.wait_until(f"{len(state.host_ips)} idle slurmd nodes",
                         lambda: _idle_nodes(state) == len(state.host_ips), timeout_s=30,
                         log=layout.log_dir / "slurmctld.log")


def _write_files(state: SlurmLabState, config: SlurmConfig, layout: conf.LabLayout) -> None:
    for d in (layout.etc, layout.state_dir, layout.log_dir, layout.dev_dir,
              layout.root / "run", layout.root / "spool"):
        d.mkdir(parents=True, exist_ok=True)
    controller = os.uname().nodename
    layout.slurm_conf.write_text(conf.render_slurm_conf(
        config=config, layout=layout, controller=controller,
        controller_ip=state.host_ips[0], host_ips=list(state.host_ips),
        accounting=state.accounting))
    (layout.etc / "gres.conf").write_text(
        conf.render_gres_conf(config=config, layout=layout, hosts=len(state.host_ips)))
    for i in range(len(state.host_ips)):
        for g in range(config.gpus_per_node):
            (layout.dev_dir / f"{conf.node_name(i)}-gpu{g}").symlink_to("/dev/null")
    dbd = layout.etc / "slurmdbd.conf"
    dbd.write_text(conf.render_slurmdbd_conf(layout=layout))
    dbd.chmod(0o600)


def _start_munge(state: SlurmLabState, layout: conf.LabLayout) -> None:
    layout.munge_dir.mkdir(mode=0o700)
    layout.munge_socket.parent.mkdir(mode=0o755)
    key = layout.munge_dir / "munge.key"
    processes.run(state.control_namespace, ["mungekey", "--create", f"--keyfile={key}"])
    key.chmod(0o400)
    processes.start(state.control_namespace, [
        "munged", "--foreground", "--force", f"--socket={layout.munge_socket}",
        f"--key-file={key}", f"--pid-file={layout.munge_dir}/munged.pid",
        f"--log-file={layout.log_dir}/munged.log", f"--seed-file={layout.munge_dir}/seed"],
        log=layout.log_dir / "munged.out")
    processes.wait_until("munged", layout.munge_socket.exists, timeout_s=10,
                         log=layout.log_dir / "munged.log")


def _answers(state: SlurmLabState, argv: list[str], needle: str) -> bool:
    try:
        out = processes.run(state.control_namespace, argv, env=client_env(state),
                            timeout_s=5, check=False)
    except RunError:
        return False
    return needle in out


def _idle_nodes(state: SlurmLabState) -> int:
    try:
        out = processes.run(state.control_namespace, ["sinfo", "-h", "-N", "-o", "%N %T"],
                            env=client_env(state), timeout_s=5, check=False)
    except RunError:
        return 0
    return sum(1 for line in set(out.splitlines()) if line.split()[-1:] == ["idle"])


def teardown(state: SlurmLabState) -> None:
    """Cancel jobs, stop every process, remove namespaces, files and the state file."""
    if state.namespaces and state.control_namespace:
        _drain(state)
        processes.stop_namespaces(state.namespaces)
    found = lab_state_mod.read_state(state.lab_name)
    if found is not None:
        lab_mod.destroy(found)
    shutil.rmtree(state.root, ignore_errors=True)
    state_mod.remove()


def _drain(state: SlurmLabState, *, timeout_s: float = 15.0) -> None:
    """scancel everything and wait until no job is left (best effort)."""
    env = client_env(state)
    if not state.slurm_conf.exists():
        return
    try:
        processes.run(state.control_namespace, ["scancel", "--full", "--quiet", "-u", "root"],
                      env=env, timeout_s=5, check=False)
    except RunError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            out = processes.run(state.control_namespace, ["squeue", "-h", "-o", "%i"],
                                env=env, timeout_s=5)
        except RunError:
            return
        if not out.strip():
            return
        time.sleep(0.2)


def down() -> SlurmLabState:
    """Take the Slurm lab down; InputError if there is none."""
    require_root(accounting=False)
    found = state_mod.read()
    if found is None:
        raise InputError(f"no Slurm lab is up (no state file at {state_mod.state_path()}); "
                         "start one with: mlfleet lab slurm up")
    teardown(found)
    return found

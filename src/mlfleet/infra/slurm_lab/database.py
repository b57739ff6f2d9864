"""Accounting for the lab: a private MariaDB, slurmdbd, and the accounts fair-share uses.

MariaDB gets its own data directory under the lab's directory, listens on the control
namespace's loopback only and runs without grant tables (nothing outside the namespace
can reach it); ``mariadb-install-db`` initialises it in a couple of seconds. slurmdbd
creates its database on first start. Accounts are added with ``sacctmgr``; root is
every account's one user, so jobs need no extra Unix users (``sbatch --account=A``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlfleet.errors import RunError
from mlfleet.infra.slurm_lab import config as conf
from mlfleet.infra.slurm_lab import processes
from mlfleet.infra.slurm_lab.state import SlurmLabState


@dataclass(frozen=True, kw_only=True)
class AccountSpec:
    """A Slurm account with its fair-share, and root as its one user."""

    name: str
    shares: int = 1
    parent: str = "root"
    user_shares: int = 1

def start(state: SlurmLabState, layout: conf.LabLayout) -> None:
    """Initialise and start MariaDB, then slurmdbd, and register the cluster."""
    ns = state.control_namespace
    socket = layout.db_dir / "mysqld.sock"
    processes.run(ns, ["mariadb-install-db", "--no-defaults", f"--datadir={layout.db_dir}",
                       "--user=root", "--skip-test-db", "--auth-root-authentication-method=normal"],
                  timeout_s=120)
    processes.start(ns, ["mariadbd", "--no-defaults", f"--datadir={layout.db_dir}",
                         f"--socket={socket}", f"--port={conf.MARIADB_PORT}",
                         "--bind-address=127.0.0.1", "--user=root", "--skip-grant-tables",
                         f"--pid-file={layout.db_dir}/mariadbd.pid",
                         f"--log-error={layout.log_dir}/mariadbd.log"],
                    log=layout.log_dir / "mariadbd.out")
    processes.wait_until("mariadbd", socket.exists, timeout_s=60,
                         log=layout.log_dir / "mariadbd.log")
    env = {"SLURM_CONF": str(state.slurm_conf)}
    processes.start(ns, ["slurmdbd", "-D"], log=layout.log_dir / "slurmdbd.out", env=env)
    processes.wait_until("slurmdbd", lambda: _sacctmgr_ok(state), timeout_s=60,
                         log=layout.log_dir / "slurmdbd.log")
    sacctmgr(state, ["add", "cluster", conf.CLUSTER])


def _sacctmgr_ok(state: SlurmLabState) -> bool:
    try:
        sacctmgr(state, ["show", "cluster"], timeout_s=5)
    except RunError:
        return False
    return True


def sacctmgr(state: SlurmLabState, args: Sequence[str], *, timeout_s: float = 30) -> str:
    """Run ``sacctmgr -i ARGS`` against the lab's slurmdbd."""
    return processes.run(state.control_namespace, ["sacctmgr", "-i", *args],
                         env={"SLURM_CONF": str(state.slurm_conf)}, timeout_s=timeout_s)


def add_accounts(state: SlurmLabState, accounts: Sequence[AccountSpec]) -> None:
    """Create each account (parents first, as given) with root as its user."""
    for acct in accounts:
        sacctmgr(state, ["add", "account", acct.name, f"parent={acct.parent}",
                         f"fairshare={acct.shares}", f"cluster={conf.CLUSTER}"])
        sacctmgr(state, ["add", "user", "root", f"account={acct.name}",
                         f"fairshare={acct.user_shares}", f"cluster={conf.CLUSTER}"])

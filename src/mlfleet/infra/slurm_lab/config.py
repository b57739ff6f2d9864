"""slurm.conf, gres.conf and slurmdbd.conf for the lab, rendered from the model's config.

Settings that make Slurm 22.05 run without systemd or cgroups, one ``slurmd`` per lab
namespace, are the ones /work/shared/REAL-COMPONENTS.md lists (proctrack/linuxproc,
task/none, GPUs as ``File=`` gres pointing at /dev/null links, config_overrides).
The scheduler settings come from :class:`~mlfleet.infra.scheduling.slurm.config.SlurmConfig`,
the same object the model predicts with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlfleet.infra.scheduling.slurm.config import SlurmConfig

CLUSTER = "mlfleet"
SLURMCTLD_PORT = 6817
SLURMD_PORT = 6818
SLURMDBD_PORT = 6819
MARIADB_PORT = 3306
"""Ports inside the lab's first host namespace, which no other program shares."""


@dataclass(frozen=True, kw_only=True)
class LabLayout:
    """Where every file of one lab lives: all under ``root``."""

    root: Path

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def slurm_conf(self) -> Path:
        return self.etc / "slurm.conf"

    @property
    def munge_dir(self) -> Path:
        return self.root / "munge"

    @property
    def munge_socket(self) -> Path:
        return self.root / "munge-run" / "munge.socket.2"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def dev_dir(self) -> Path:
        return self.root / "dev"

    @property
    def db_dir(self) -> Path:
        return self.root / "mysql"

    def spool(self, node: str) -> Path:
        return self.root / "spool" / node


def node_name(index: int) -> str:
    """The Slurm node name of lab host ``index``."""
    return f"n{index}"


def scheduler_parameters(config: SlurmConfig) -> str:
    """``SchedulerParameters`` for the periods the model uses."""
    return (f"bf_interval={round(config.bf_interval_s)},"
            f"sched_interval={round(config.sched_interval_s)},bf_resolution=1,"
            f"bf_window={max(1, round(config.bf_window_s / 60))},"
            f"bf_max_job_test={config.bf_max_job_test}")


def render_slurm_conf(*, config: SlurmConfig, layout: LabLayout, controller: str,
                      controller_ip: str, host_ips: list[str], accounting: bool) -> str:
    """The slurm.conf text."""
    w = config.weights
    lines = [
        f"ClusterName={CLUSTER}", f"SlurmctldHost={controller}({controller_ip})",
        f"SlurmctldPort={SLURMCTLD_PORT}", f"SlurmdPort={SLURMD_PORT}",
        "AuthType=auth/munge", f"AuthInfo=socket={layout.munge_socket}",
        "CredType=cred/munge", "SlurmUser=root", "SlurmdUser=root",
        f"StateSaveLocation={layout.state_dir}", f"SlurmdSpoolDir={layout.root}/spool/%n",
        f"SlurmctldPidFile={layout.root}/run/slurmctld.pid",
        f"SlurmdPidFile={layout.root}/run/slurmd-%n.pid",
        f"SlurmctldLogFile={layout.log_dir}/slurmctld.log",
        f"SlurmdLogFile={layout.log_dir}/slurmd-%n.log",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core",
        "SchedulerType=sched/backfill", f"SchedulerParameters={scheduler_parameters(config)}",
        "PriorityType=priority/multifactor", "PriorityCalcPeriod=1",
        f"PriorityDecayHalfLife={max(1, round(config.decay_half_life_s / 60))}",
        f"PriorityWeightAge={w.age}", f"PriorityWeightFairshare={w.fairshare}",
        f"PriorityWeightJobSize={w.job_size}", f"PriorityWeightPartition={w.partition}",
        f"PriorityWeightQOS={w.qos}", f"PriorityMaxAge={max(1, round(w.max_age_s / 60))}",
        f"PriorityFavorSmall={'YES' if w.favor_small else 'NO'}",
        "PreemptType=preempt/partition_prio", "PreemptMode=CANCEL",
        "GresTypes=gpu", "ReturnToService=2", "SlurmdParameters=config_overrides",
        "MpiDefault=none", "KillWait=1", "MinJobAge=3600", "InactiveLimit=0",
        "SlurmdTimeout=300", "SlurmctldTimeout=300", "MessageTimeout=30",
        "JobCompType=jobcomp/filetxt", f"JobCompLoc={layout.log_dir}/jobcomp.txt",
        "JobAcctGatherType=jobacct_gather/none",
    ]
    if accounting:
        lines += ["AccountingStorageType=accounting_storage/slurmdbd",
                  f"AccountingStorageHost={controller_ip}",
                  f"AccountingStoragePort={SLURMDBD_PORT}",
                  f"AccountingStoragePass={layout.munge_socket}",
                  "AccountingStorageEnforce=associations"]
    for i, ip in enumerate(host_ips):
        lines.append(f"NodeName={node_name(i)} NodeAddr={ip} CPUs={config.cpus_per_node} "
                     f"Gres=gpu:{config.gpus_per_node} RealMemory=1000 State=UNKNOWN")
    for i, part in enumerate(config.partitions):
        mode = "OFF" if part.preempt_mode == "off" else part.preempt_mode.upper()
        lines.append(f"PartitionName={part.name} Nodes=ALL Default={'YES' if i == 0 else 'NO'} "
                     f"PriorityTier={part.priority_tier} "
                     f"PriorityJobFactor={part.priority_job_factor} PreemptMode={mode} "
                     "MaxTime=INFINITE State=UP OverSubscribe=NO")
    return "\n".join(lines) + "\n"


def render_gres_conf(*, config: SlurmConfig, layout: LabLayout, hosts: int) -> str:
    """gres.conf: each node's GPUs as files (links to /dev/null), autodetection off."""
    lines = ["AutoDetect=off"]
    last = config.gpus_per_node - 1
    for i in range(hosts):
        if config.gpus_per_node:
            lines.append(f"NodeName={node_name(i)} Name=gpu "
                         f"File={layout.dev_dir}/{node_name(i)}-gpu[0-{last}]")
    return "\n".join(lines) + "\n"


def render_slurmdbd_conf(*, layout: LabLayout) -> str:
    """slurmdbd.conf: MariaDB on the namespace's loopback, grant tables off."""
    return "\n".join([
        "AuthType=auth/munge", f"AuthInfo=socket={layout.munge_socket}",
        "DbdHost=localhost", "DbdAddr=127.0.0.1", f"DbdPort={SLURMDBD_PORT}",
        "SlurmUser=root", "StorageType=accounting_storage/mysql",
        "StorageHost=127.0.0.1", f"StoragePort={MARIADB_PORT}", "StorageUser=root",
        "StorageLoc=slurm_acct_db", f"PidFile={layout.root}/run/slurmdbd.pid",
        f"LogFile={layout.log_dir}/slurmdbd.log",
    ]) + "\n"

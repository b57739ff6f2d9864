"""Talk to the lab's Slurm: submit sleep jobs with ``sbatch``, read ``sacct``, ``sshare``
and ``sprio`` back as typed rows.

Every command runs in the control namespace with the lab's ``SLURM_CONF``. Times from
``sacct`` are whole seconds (Slurm keeps no finer start or end time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from mlfleet.infra.scheduling.slurm.workload import SlurmJob
from mlfleet.infra.slurm_lab import processes
from mlfleet.infra.slurm_lab.state import SlurmLabState


def _env(state: SlurmLabState) -> dict[str, str]:
    return {"SLURM_CONF": str(state.slurm_conf)}


def sbatch_argv(job: SlurmJob, *, begin_epoch_s: int | None = None) -> list[str]:
    """The ``sbatch`` command line of ``job``: a ``sleep`` of its duration."""
    argv = ["sbatch", "--parsable", f"--job-name={job.name}", f"--partition={job.partition}",
            f"--nodes={job.nodes}", "--ntasks-per-node=1", f"--cpus-per-task={job.cpus_per_node}",
            f"--time={round(job.time_limit_s / 60)}", "--output=/dev/null",
            f"--account={job.account}" if job.account != "default" else "--account=root"]
    if job.gpus_per_node:
        argv.append(f"--gres=gpu:{job.gpus_per_node}")
    if begin_epoch_s is not None:
        argv.append(f"--begin={datetime.fromtimestamp(begin_epoch_s).strftime('%Y-%m-%dT%H:%M:%S')}")
    argv.append(f"--wrap=sleep {job.duration_s:g}")
    return argv


def submit(state: SlurmLabState, job: SlurmJob, *, begin_epoch_s: int | None = None) -> int:
    """Submit ``job``; returns its job id."""
    out = processes.run(state.control_namespace, sbatch_argv(job, begin_epoch_s=begin_epoch_s),
                        env=_env(state))
    return int(out.strip().split(";")[0])


@dataclass(frozen=True, kw_only=True)
class AcctRow:
    """One job as ``sacct -X`` reports it."""

    job_id: int
    name: str
    state: str
    partition: str
    account: str
    submit_epoch_s: int
    start_epoch_s: int | None
    end_epoch_s: int | None
    nodes: tuple[str, ...]
    alloc_cpus: int


SACCT_FIELDS = "JobID,JobName,State,Partition,Account,Submit,Start,End,NodeList,AllocCPUS"


def _epoch(text: str) -> int | None:
    if text in ("", "Unknown", "None"):
        return None
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").timestamp())


def expand_nodelist(text: str) -> tuple[str, ...]:
    """``n[0-2,5]`` -> ``('n0', 'n1', 'n2', 'n5')``; ``None assigned`` -> ``()``."""
    names: list[str] = []
    for prefix, ranges, single in re.findall(r"([A-Za-z]+)\[([0-9,\-]+)\]|([A-Za-z]+[0-9]+)", text):
        if single:
            names.append(single)
            continue
        for part in ranges.split(","):
            lo, _, hi = part.partition("-")
            names.extend(f"{prefix}{i}" for i in range(int(lo), int(hi or lo) + 1))
    return tuple(names)


def sacct(state: SlurmLabState) -> list[AcctRow]:
    """Every job of the lab (allocations only, no steps), by job id."""
    out = processes.run(state.control_namespace,
                        ["sacct", "-X", "-P", "-n", "-a", "-S", "2000-01-01",
                         f"--format={SACCT_FIELDS}"], env=_env(state))
    rows = []
    for line in out.splitlines():
        f = line.split("|")
        if len(f) != 10 or not f[0].isdigit():
            continue
        rows.append(AcctRow(job_id=int(f[0]), name=f[1], state=f[2].split()[0], partition=f[3],
                            account=f[4], submit_epoch_s=_epoch(f[5]) or 0,
                            start_epoch_s=_epoch(f[6]), end_epoch_s=_epoch(f[7]),
                            nodes=expand_nodelist(f[8]), alloc_cpus=int(f[9] or 0)))
    return sorted(rows, key=lambda r: r.job_id)


@dataclass(frozen=True, kw_only=True)
class ShareRow:
    """One association as ``sshare -a -l`` reports it."""

    account: str
    user: str
    raw_shares: int | None
    raw_usage: float
    fairshare: float | None
    level_fs: float | None


def _float(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    return float("inf") if text == "inf" else float(text)


def sshare(state: SlurmLabState) -> list[ShareRow]:
    """Every association's shares, raw usage, FairShare and LevelFS."""
    out = processes.run(state.control_namespace,
                        ["sshare", "-a", "-l", "-P", "-n", "-o",
                         "Account,User,RawShares,RawUsage,FairShare,LevelFS"], env=_env(state))
    rows = []
    for line in out.splitlines():
        f = line.split("|")
        if len(f) < 6:
            continue
        shares = f[2].strip()
        rows.append(ShareRow(account=f[0].strip(), user=f[1].strip(),
                             raw_shares=int(shares) if shares.isdigit() else None,
                             raw_usage=_float(f[3]) or 0.0, fairshare=_float(f[4]),
                             level_fs=_float(f[5])))
    return rows


@dataclass(frozen=True, kw_only=True)
class PrioRow:
    """One pending job's weighted priority parts (``sprio``)."""

    job_id: int
    priority: int
    fairshare: float
    job_size: float
    partition: float


def sprio(state: SlurmLabState) -> list[PrioRow]:
    """Weighted priority components of every pending job."""
    out = processes.run(state.control_namespace,
                        ["sprio", "-h", "-o", "%i|%Y|%F|%J|%P"], env=_env(state))
    rows = []
    for line in out.splitlines():
        f = [x.strip() for x in line.split("|")]
        if len(f) == 5 and f[0].isdigit():
            rows.append(PrioRow(job_id=int(f[0]), priority=int(f[1]), fairshare=float(f[2]),
                                job_size=float(f[3]), partition=float(f[4])))
    return rows

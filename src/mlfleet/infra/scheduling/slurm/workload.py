"""A Slurm workload: fixed-duration jobs (sleeps) as ``sbatch`` would submit them.

CSV columns (one row per job, in submission order; the row order is the job-id order)::

    name,submit_s,duration_s,time_limit_s,nodes,gpus_per_node,cpus_per_node,partition,account

``nodes``, ``cpus_per_node`` and ``account`` may be left out (1, 1, ``default``).
Slurm keeps time limits in whole minutes, so ``time_limit_s`` must be a multiple of 60.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlfleet.errors import InputError
from mlfleet.infra.scheduling.slurm.config import SlurmConfig

REQUIRED = ("name", "submit_s", "duration_s", "time_limit_s", "gpus_per_node", "partition")
OPTIONAL = {"nodes": "1", "cpus_per_node": "1", "account": "default"}


class WorkloadError(InputError):
    """A Slurm workload file or job that cannot be run."""


@dataclass(frozen=True, kw_only=True)
class SlurmJob:
    """One batch job: ``sbatch -N nodes --gres=gpu:G -c C -t limit -p part --wrap 'sleep d'``."""

    name: str
    submit_s: float
    duration_s: float
    """How long the job runs once started (the sleep)."""
    time_limit_s: float
    """Declared wall-time limit (backfill plans with it), a whole number of minutes."""
    gpus_per_node: int
    partition: str
    nodes: int = 1
    cpus_per_node: int = 1
    account: str = "default"

    def __post_init__(self) -> None:
        where = f"job {self.name!r}"
        if not (0 <= self.submit_s < math.inf and 0 < self.duration_s < math.inf):
            raise WorkloadError(f"{where}: submit_s(={self.submit_s}) must be >= 0 and "
                                f"duration_s(={self.duration_s}) > 0")
        if not 60 <= self.time_limit_s < math.inf or self.time_limit_s % 60:
            raise WorkloadError(f"{where}: time_limit_s(={self.time_limit_s}) must be a whole "
                                "number of minutes (60, 120, ...), as Slurm keeps it")
        if self.gpus_per_node < 0 or self.nodes < 1 or self.cpus_per_node < 1:
            raise WorkloadError(f"{where}: gpus_per_node(={self.gpus_per_node}) must be >= 0, "
                                f"nodes(={self.nodes}) and cpus_per_node(={self.cpus_per_node})"
                                " >= 1")

    @property
    def gpus(self) -> int:
        """GPUs over all its nodes."""
        return self.nodes * self.gpus_per_node

    @property
    def cpus(self) -> int:
        """CPUs over all its nodes (the job-size factor counts these)."""
        return self.nodes * self.cpus_per_node


def check_fits(jobs: Sequence[SlurmJob], config: SlurmConfig) -> None:
    """WorkloadError for a job on an unknown partition or larger than the cluster."""
    for job in jobs:
        config.partition(job.partition)
        if (job.nodes > config.nodes or job.gpus_per_node > config.gpus_per_node
                or job.cpus_per_node > config.cpus_per_node):
            raise WorkloadError(
                f"job {job.name!r} asks for {job.nodes} node(s) x {job.gpus_per_node} GPUs x "
                f"{job.cpus_per_node} CPUs; the cluster has {config.nodes} nodes x "
                f"{config.gpus_per_node} GPUs x {config.cpus_per_node} CPUs")


def read_workload(path: Path) -> list[SlurmJob]:
    """The jobs of a workload CSV; WorkloadError naming the file and row otherwise."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadError(f"cannot read workload {str(path)!r}: {exc}") from None
    if not rows:
        raise WorkloadError(f"workload {str(path)!r} has no jobs (need columns "
                            f"{', '.join(REQUIRED)})")
    missing = [c for c in REQUIRED if c not in rows[0]]
    if missing:
        raise WorkloadError(f"workload {str(path)!r} lacks column(s) {', '.join(missing)}")
    return [_job(row, path, i + 2) for i, row in enumerate(rows)]


def _job(row: dict[str, str], path: Path, line: int) -> SlurmJob:
    get = {**OPTIONAL, **{k: v for k, v in row.items() if k is not None and v not in (None, "")}}
    try:
        return SlurmJob(name=get["name"], submit_s=float(get["submit_s"]),
                        duration_s=float(get["duration_s"]),
                        time_limit_s=float(get["time_limit_s"]),
                        gpus_per_node=int(get["gpus_per_node"]), partition=get["partition"],
                        nodes=int(get["nodes"]), cpus_per_node=int(get["cpus_per_node"]),
                        account=get["account"])
    except (KeyError, ValueError) as exc:
        raise WorkloadError(f"{path}:{line}: bad value ({exc}); numbers are needed in "
                            "submit_s, duration_s, time_limit_s, nodes, gpus_per_node, "
                            "cpus_per_node") from None

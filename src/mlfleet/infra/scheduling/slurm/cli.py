"""``mlfleet infra scheduler priority | predict``: Slurm's semantics on a workload file.

``priority WORKLOAD.csv``: each job's multifactor factors and priority at submission.
``predict WORKLOAD.csv``: each job's predicted start (main scheduler + backfill +
partition preemption), the model that ``tests/infra/slurm_lab`` checks against a real
slurmctld. Partitions: ``--partitions batch:1:1:cancel,urgent:2:2`` is
``name:PriorityTier:PriorityJobFactor[:PreemptMode]`` per partition, the first the default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlfleet.errors import InputError
from mlfleet.infra.scheduling.slurm import priority as prio
from mlfleet.infra.scheduling.slurm.config import Partition, PriorityWeights, SlurmConfig
from mlfleet.infra.scheduling.slurm.predict import factors_of, predict
from mlfleet.infra.scheduling.slurm.workload import check_fits, read_workload

DEFAULT_PARTITIONS = "batch:1:1:cancel,urgent:2:2"


def parse_partitions(text: str) -> tuple[Partition, ...]:
    """``'batch:1:1:cancel,urgent:2:2'`` -> partitions; InputError naming the bad item."""
    out = []
    for item in (t.strip() for t in text.split(",")):
        fields = item.split(":")
        if not 1 <= len(fields) <= 4:
            raise InputError(f"--partitions item {item!r} must be name[:tier[:factor[:mode]]]")
        try:
            tier = int(fields[1]) if len(fields) > 1 else 1
            factor = int(fields[2]) if len(fields) > 2 else 1
        except ValueError:
            raise InputError(f"--partitions item {item!r}: tier and factor must be "
                             "integers >= 0") from None
        mode = fields[3].lower() if len(fields) > 3 else "off"
        out.append(Partition(name=fields[0], priority_tier=tier, priority_job_factor=factor,
                             preempt_mode=mode))
    return tuple(out)


def _config(nodes: int, gpus_per_node: int, cpus_per_node: int, partitions: str,
            weight_job_size: int, weight_partition: int, favor_small: bool, bf_interval: float,
            easy: bool) -> SlurmConfig:
    return SlurmConfig(
        nodes=nodes, gpus_per_node=gpus_per_node, cpus_per_node=cpus_per_node,
        partitions=parse_partitions(partitions),
        weights=PriorityWeights(job_size=weight_job_size, partition=weight_partition,
                                favor_small=favor_small),
        bf_interval_s=bf_interval, reservations=1 if easy else None)


def _cluster_options(func: Any) -> Any:
    options = [
        click.option("--nodes", type=int, default=4, show_default=True, help="Nodes."),
        click.option("--gpus-per-node", type=int, default=4, show_default=True),
        click.option("--cpus-per-node", type=int, default=8, show_default=True),
        click.option("--partitions", default=DEFAULT_PARTITIONS, show_default=True,
                     help="name:PriorityTier:PriorityJobFactor[:PreemptMode], comma-separated."),
        click.option("--weight-job-size", type=int, default=1000, show_default=True,
                     help="PriorityWeightJobSize."),
        click.option("--weight-partition", type=int, default=1000, show_default=True,
                     help="PriorityWeightPartition."),
        click.option("--favor-small/--favor-large", default=False, show_default=True,
                     help="PriorityFavorSmall."),
        click.option("--bf-interval", type=float, default=1.0, show_default=True,
                     help="Seconds between backfill passes."),
        click.option("--easy", is_flag=True, help="EASY backfill: reserve for the first "
                                                  "blocked job only (Slurm reserves for all)."),
        click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("scheduler")
def scheduler_group() -> None:
    """Slurm semantics: multifactor priority, fair-share, backfill start times."""


@scheduler_group.command("priority")
@click.argument("workload", type=click.Path(path_type=Path))
@_cluster_options
def priority_cmd(workload: Path, nodes: int, gpus_per_node: int, cpus_per_node: int,
                 partitions: str, weight_job_size: int, weight_partition: int,
                 favor_small: bool, bf_interval: float, easy: bool, as_json: bool) -> None:
    """Each job's normalised factors and integer priority at submission."""
    config = _config(nodes, gpus_per_node, cpus_per_node, partitions, weight_job_size,
                     weight_partition, favor_small, bf_interval, easy)
    jobs = read_workload(workload)
    check_fits(jobs, config)
    rows = []
    for job in jobs:
        f = factors_of(job, config, now_s=job.submit_s, fairshare={})
        rows.append({"name": job.name, "partition": job.partition, "job_size": f.job_size,
                     "partition_factor": f.partition,
                     "priority": prio.job_priority(f, config.weights)})
    if as_json:
        _emit({"jobs": rows})
        return
    click.echo(f"{'job':<12} {'partition':<10} {'job_size':>9} {'part':>6} {'priority':>9}")
    for r in rows:
        click.echo(f"{r['name']:<12} {r['partition']:<10} {r['job_size']:>9.4f} "
                   f"{r['partition_factor']:>6.3f} {r['priority']:>9}")


@scheduler_group.command("predict")
@click.argument("workload", type=click.Path(path_type=Path))
@_cluster_options
def predict_cmd(workload: Path, nodes: int, gpus_per_node: int, cpus_per_node: int,
                partitions: str, weight_job_size: int, weight_partition: int,
                favor_small: bool, bf_interval: float, easy: bool, as_json: bool) -> None:
    """Predicted start and end of every job (seconds from the workload's start)."""
    config = _config(nodes, gpus_per_node, cpus_per_node, partitions, weight_job_size,
                     weight_partition, favor_small, bf_interval, easy)
    predicted = predict(read_workload(workload), config)
    rows = [{"name": p.name, "submit_s": p.submit_s, "start_s": p.start_s, "end_s": p.end_s,
             "wait_s": None if p.start_s is None else p.start_s - p.submit_s,
             "nodes": list(p.nodes), "priority": p.priority, "started_by": p.started_by,
             "preempted": p.preempted} for p in predicted]
    if as_json:
        _emit({"jobs": rows})
        return
    click.echo(f"{'job':<12} {'submit_s':>9} {'start_s':>9} {'wait_s':>8} {'by':<9} nodes")
    for r in rows:
        flag = " preempted" if r["preempted"] else ""
        click.echo(f"{r['name']:<12} {r['submit_s']:>9.1f} {r['start_s']:>9.2f} "
                   f"{r['wait_s']:>8.2f} {r['started_by']:<9} {r['nodes']}{flag}")


def _emit(payload: Any) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)

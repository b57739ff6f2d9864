"""Turning ``mlfleet reliability`` options into model inputs (parsed only here, at the edge)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import click

from mlfleet import units
from mlfleet.catalog.cluster_size import too_many_gpus
from mlfleet.catalog.types import Cluster, Workload
from mlfleet.reliability.checkpoint_policy import CheckpointSetting
from mlfleet.reliability.errors import ReliabilityInputError
from mlfleet.reliability.failures import (
    DEFAULT_GPUS_PER_NODE,
    component_rates,
    total_rate_per_gpu_s,
)
from mlfleet.reliability.job import JobShape, checkpoint_setting

CUSTOM = "give --gpus and --gpus-per-node without --cluster"
DEFAULT_NODE_NET_BW = "400GB/s"
"""A node's scale-out bandwidth without --cluster: 8 x 400 Gb/s rails (a DGX H100)."""


def quantity(text: str, target: str, option: str, *, allow_zero: bool = False) -> float:
    """``text`` parsed to ``target`` units; > 0 (>= 0 with ``allow_zero``) or a one-line error."""
    value = units.parse_quantity(text, target)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ReliabilityInputError(f"{option}(={text!r}) must be {bound}, "
                                    f"a {units.describe_target(target)}")
    return value


def job_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Where the job runs and what a failure costs."""
    options = [
        click.option("--cluster", help="Catalog cluster (see `mlfleet catalog list cluster`)."),
        click.option("--gpus", type=int, help="GPUs of the job (default: all of --cluster)."),
        click.option("--gpus-per-node", type=int, help="Without --cluster: GPUs per node (8)."),
        click.option("--mtbf", help="Job MTBF, e.g. 3h (default: catalog failure rates x GPUs)."),
        click.option("--detection", default="5min", show_default=True,
                     help="Time to detect a failure."),
        click.option("--restart", default="5min", show_default=True,
                     help="Time to reschedule and re-initialise (checkpoint load not counted)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def checkpoint_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """How big a checkpoint is and how fast it is written."""
    options = [
        click.option("--ckpt-size", help="Checkpoint size, e.g. 1TB (or give --workload)."),
        click.option("--workload", help="Catalog workload to size the checkpoint from."),
        click.option("--write-bw", required=True, help="Aggregate write bandwidth, e.g. 100GB/s."),
        click.option("--read-bw", help="Aggregate read bandwidth at restart (default --write-bw)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@dataclass(frozen=True, kw_only=True)
class Job:
    """The resolved job: its shape, failure rate and the names it came from."""

    shape: JobShape
    mtbf_s: float
    mtbf_source: str
    cluster: str | None
    detection_s: float
    restart_s: float
    usd_per_gpu_h: float | None


def resolve_job(*, cluster: str | None, gpus: int | None, gpus_per_node: int | None,
                mtbf: str | None, detection: str, restart: str) -> Job:
    """The :class:`Job` the options describe."""
    shape, price = _shape(cluster, gpus, gpus_per_node)
    rate = total_rate_per_gpu_s(component_rates(gpus_per_node=shape.gpus_per_node))
    mtbf_s = quantity(mtbf, "s", "--mtbf") if mtbf is not None else 1.0 / (rate * shape.gpus)
    source = "--mtbf" if mtbf is not None else "catalog component failure rates x GPUs"
    return Job(shape=shape, mtbf_s=mtbf_s, mtbf_source=source, cluster=cluster,
               detection_s=quantity(detection, "s", "--detection", allow_zero=True),
               restart_s=quantity(restart, "s", "--restart", allow_zero=True),
               usd_per_gpu_h=price)


def _shape(cluster: str | None, gpus: int | None,
           gpus_per_node: int | None) -> tuple[JobShape, float | None]:
    if gpus is not None and gpus < 1:
        raise ReliabilityInputError(f"--gpus(={gpus}) must be an integer >= 1")
    if cluster is None:
        if gpus is None:
            raise ReliabilityInputError("give --cluster NAME or --gpus N")
        per_node = DEFAULT_GPUS_PER_NODE if gpus_per_node is None else gpus_per_node
        if per_node < 1:
            raise ReliabilityInputError(f"--gpus-per-node(={per_node}) must be an integer >= 1")
        bw = units.parse_quantity(DEFAULT_NODE_NET_BW, "bytes_per_s")
        return JobShape(gpus=gpus, gpus_per_node=per_node, node_net_bw_bytes_per_s=bw), None
    if gpus_per_node is not None:
        raise ReliabilityInputError("--gpus-per-node comes from --cluster; give one of them")
    spec = Cluster.from_name(cluster)
    n = spec.gpus if gpus is None else gpus
    reason = too_many_gpus(cluster=spec.name, cluster_gpus=spec.gpus, gpus=n, custom=CUSTOM)
    if reason is not None:
        raise ReliabilityInputError(f"--gpus(={n}) {reason}")
    price = spec.accelerator.cloud_usd_per_h[0] if spec.accelerator.cloud_usd_per_h else None
    return JobShape(gpus=n, gpus_per_node=min(n, spec.gpus_per_node),
                    node_net_bw_bytes_per_s=spec.node_scaleout_bw_bytes_per_s), price


def checkpoint_bytes(*, ckpt_size: str | None, workload: str | None) -> tuple[float, str]:
    """(bytes, what they are) from --ckpt-size or --workload."""
    if (ckpt_size is None) == (workload is None):
        raise ReliabilityInputError("give --ckpt-size SIZE or --workload NAME (one of them)")
    if ckpt_size is not None:
        return quantity(ckpt_size, "bytes", "--ckpt-size"), "--ckpt-size"
    from mlfleet.storage.checkpoint.size import checkpoint_bytes as size_of

    size = size_of(Workload.from_name(workload or ""))
    return size.total_bytes, f"{workload}: bf16 weights + {size.counted}"


def setting_for(job: Job, *, ckpt_bytes: float, write_bw: str, read_bw: str | None,
                snapshot_bw: str | None = None, replicas: int = 2) -> CheckpointSetting:
    """The checkpoint setting of ``job`` for the checkpoint options."""
    if replicas < 2:
        raise ReliabilityInputError(f"--replicas(={replicas}) must be an integer >= 2")
    setting = checkpoint_setting(
        job.shape, ckpt_bytes=ckpt_bytes,
        write_bw_bytes_per_s=quantity(write_bw, "bytes_per_s", "--write-bw"),
        read_bw_bytes_per_s=None if read_bw is None else quantity(read_bw, "bytes_per_s",
                                                                  "--read-bw"),
        snapshot_bw_per_gpu_bytes_per_s=None if snapshot_bw is None else quantity(
            snapshot_bw, "bytes_per_s", "--snapshot-bw"),
        mtbf_s=job.mtbf_s, detection_s=job.detection_s, restart_s=job.restart_s)
    return replace(setting, replicas=replicas)


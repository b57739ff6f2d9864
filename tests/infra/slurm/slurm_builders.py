"""Builders for the Slurm model tests: jobs and configs with keyword overrides."""

from __future__ import annotations

from typing import Any

from mlfleet.infra.scheduling.slurm.config import Partition, SlurmConfig
from mlfleet.infra.scheduling.slurm.workload import SlurmJob


def job(name: str, **overrides: Any) -> SlurmJob:
    """A one-node, one-GPU, one-minute job in partition ``batch`` submitted at 0."""
    fields: dict[str, Any] = {"name": name, "submit_s": 0.0, "duration_s": 30.0,
                              "time_limit_s": 60.0, "gpus_per_node": 1, "partition": "batch"}
    fields.update(overrides)
    return SlurmJob(**fields)


def config(**overrides: Any) -> SlurmConfig:
    """Two nodes of 4 GPUs and 8 CPUs, partitions ``batch`` and ``urgent`` (tier 2,
    preempts batch, whose jobs are cancelled)."""
    fields: dict[str, Any] = {
        "nodes": 2, "gpus_per_node": 4, "cpus_per_node": 8,
        "partitions": (Partition(name="batch", priority_tier=1, preempt_mode="cancel"),
                       Partition(name="urgent", priority_tier=2))}
    fields.update(overrides)
    return SlurmConfig(**fields)

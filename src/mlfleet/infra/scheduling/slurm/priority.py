"""Slurm's multifactor job priority: each factor in [0, 1], weighted and summed.

Source: Slurm "Multifactor Priority Plugin" (slurm.schedmd.com/priority_multifactor.html),
22.05::

    Job_priority = PriorityWeightAge       * age_factor
                 + PriorityWeightFairshare * fair-share_factor
                 + PriorityWeightJobSize   * job_size_factor
                 + PriorityWeightPartition * partition_factor
                 + PriorityWeightQOS       * QOS_factor

The age factor grows linearly to 1 at PriorityMaxAge. The job-size factor averages
the node share and the CPU share of the cluster the job asks for (favouring large jobs;
with PriorityFavorSmall each share is replaced by one minus it). The partition factor
is the partition's PriorityJobFactor over the largest of any partition; the QOS factor
the QOS priority over the largest. slurmctld truncates the weighted sum to an integer
and never lets a pending job's priority reach 0 (0 means held).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.infra.scheduling.slurm.config import PriorityWeights


@dataclass(frozen=True, kw_only=True)
class PriorityFactors:
    """A job's normalised factors, each in [0, 1] (``sprio -n`` shows them)."""

    age: float = 0.0
    fairshare: float = 0.0
    job_size: float = 0.0
    partition: float = 0.0
    qos: float = 0.0

    def __post_init__(self) -> None:
        for name in ("age", "fairshare", "job_size", "partition", "qos"):
            value = getattr(self, name)
            assert 0.0 <= value <= 1.0, f"{name} factor {value} outside [0, 1]"


def age_factor(age_s: float, *, max_age_s: float) -> float:
    """Time since the job became eligible over PriorityMaxAge, capped at 1."""
    return min(max(age_s, 0.0) / max_age_s, 1.0)


def job_size_factor(*, nodes: int, cpus: int, cluster_nodes: int, cluster_cpus: int,
                    favor_small: bool) -> float:
    """The job-size factor: mean of the node share and the CPU share the job requests.

    ``favor_small``: a one-node one-CPU job gets nearly 1, the whole cluster 0.
    """
    node_share = nodes / cluster_nodes
    cpu_share = cpus / cluster_cpus
    if favor_small:
        node_share, cpu_share = 1.0 - node_share, 1.0 - cpu_share
    return min(max((node_share + cpu_share) / 2.0, 0.0), 1.0)


def ratio_factor(value: int, largest: int) -> float:
    """Partition (PriorityJobFactor) or QOS factor: ``value / largest`` (0 if largest is 0)."""
    return value / largest if largest > 0 else 0.0


def job_priority(factors: PriorityFactors, weights: PriorityWeights) -> int:
    """The integer priority slurmctld gives a pending job (>= 1)."""
    total = (weights.age * factors.age + weights.fairshare * factors.fairshare
             + weights.job_size * factors.job_size + weights.partition * factors.partition
             + weights.qos * factors.qos)
    return max(int(math.floor(total)), 1)


def weighted(factors: PriorityFactors, weights: PriorityWeights) -> dict[str, float]:
    """Each factor times its weight, as ``sprio`` prints them (before truncation)."""
    return {"age": weights.age * factors.age, "fairshare": weights.fairshare * factors.fairshare,
            "job_size": weights.job_size * factors.job_size,
            "partition": weights.partition * factors.partition,
            "qos": weights.qos * factors.qos}

"""What the Slurm model needs to know about a cluster's slurm.conf: nodes, partitions,
priority weights and the scheduler's periods.

One :class:`SlurmConfig` drives both the model (:mod:`.predict`) and the real lab
(:mod:`mlfleet.infra.slurm_lab.config` renders it as slurm.conf), so the two never
disagree about a weight or a period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlfleet.checks import one_of, positive, positive_int
from mlfleet.errors import InputError

PREEMPT_MODES = ("off", "requeue", "cancel")
"""PreemptMode values the model supports (slurm.conf spelling, lower case)."""


@dataclass(frozen=True, kw_only=True)
class Partition:
    """One partition over every node (the lab's partitions overlap, as most sites' do)."""

    name: str
    priority_tier: int = 1
    """PriorityTier: jobs of a higher tier are scheduled first and may preempt lower tiers."""
    priority_job_factor: int = 1
    """PriorityJobFactor: the partition factor is this over the largest one of any partition."""
    preempt_mode: str = "off"
    """PreemptMode of jobs *in* this partition when a higher tier needs their resources."""

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise InputError(f"partition name {self.name!r} must be letters, digits, '_' or '-'")
        positive_int("priority_tier", self.priority_tier, minimum=0)
        positive_int("priority_job_factor", self.priority_job_factor, minimum=0)
        one_of("preempt_mode", self.preempt_mode, PREEMPT_MODES)


@dataclass(frozen=True, kw_only=True)
class PriorityWeights:
    """The ``PriorityWeight*`` settings of priority/multifactor (integers, as slurm.conf)."""

    age: int = 0
    fairshare: int = 0
    job_size: int = 0
    partition: int = 0
    qos: int = 0
    max_age_s: float = 7 * 86400.0
    """PriorityMaxAge: the age at which the age factor reaches 1 (default 7 days)."""
    favor_small: bool = False
    """PriorityFavorSmall: small jobs get the larger job-size factor."""

    def __post_init__(self) -> None:
        for name in ("age", "fairshare", "job_size", "partition", "qos"):
            positive_int(f"PriorityWeight{name}", getattr(self, name), minimum=0)
        positive("PriorityMaxAge", self.max_age_s)


@dataclass(frozen=True, kw_only=True)
class SlurmConfig:
    """A homogeneous cluster and the scheduling settings the model reproduces."""

    nodes: int
    gpus_per_node: int
    cpus_per_node: int = 8
    partitions: tuple[Partition, ...] = (Partition(name="batch"),)
    """The first partition is the default."""
    weights: PriorityWeights = field(default_factory=PriorityWeights)
    bf_interval_s: float = 1.0
    """SchedulerParameters=bf_interval: seconds between backfill passes."""
    sched_interval_s: float = 60.0
    """SchedulerParameters=sched_interval: seconds between full main-scheduler passes
    (it also runs on every submission and job completion)."""
    bf_window_s: float = 86400.0
    """bf_window: how far ahead backfill plans (jobs that cannot start within it get no
    reservation)."""
    bf_max_job_test: int = 500
    """bf_max_job_test: pending jobs a backfill pass looks at, in priority order."""
    decay_half_life_s: float = 7 * 86400.0
    """PriorityDecayHalfLife: fair-share usage halves over this time (Slurm's default is 7
    days; 0 would turn decay off but, on the lab, also kept every charge at 0)."""
    reservations: int | None = None
    """How many blocked jobs backfill reserves for: None = every one (what Slurm does);
    1 = EASY backfill (only the first blocked job is protected)."""

    def __post_init__(self) -> None:
        positive_int("nodes", self.nodes)
        positive_int("gpus_per_node", self.gpus_per_node, minimum=0)
        positive_int("cpus_per_node", self.cpus_per_node)
        if not self.partitions:
            raise InputError("partitions must name at least one partition")
        names = [p.name for p in self.partitions]
        if len(set(names)) != len(names):
            raise InputError(f"partition names {names} must be distinct")
        positive("bf_interval", self.bf_interval_s)
        positive("sched_interval", self.sched_interval_s)
        positive("bf_window", self.bf_window_s)
        positive_int("bf_max_job_test", self.bf_max_job_test)
        positive("decay_half_life", self.decay_half_life_s)
        if self.reservations is not None:
            positive_int("reservations", self.reservations)

    def partition(self, name: str) -> Partition:
        """The partition called ``name``; InputError listing the known ones."""
        for part in self.partitions:
            if part.name == name:
                return part
        one_of("partition", name, [p.name for p in self.partitions])
        raise AssertionError("unreachable")

    @property
    def max_job_factor(self) -> int:
        """The largest PriorityJobFactor of any partition (the partition factor's divisor)."""
        return max(p.priority_job_factor for p in self.partitions)

    @property
    def total_cpus(self) -> int:
        """CPUs of the whole cluster (the job-size factor's divisor)."""
        return self.nodes * self.cpus_per_node

"""The ``slurm`` policy: backfill by time limits at one round, and end to end on the engine."""

from __future__ import annotations

import importlib

import numpy as np

from mlfleet.infra.scheduling.engine import simulate
from mlfleet.infra.scheduling.policies import POLICIES
from mlfleet.infra.scheduling.slurm.config import Partition, PriorityWeights
from mlfleet.infra.scheduling.slurm.policy import SlurmPolicy
from mlfleet.infra.scheduling.types import ClusterView, JobSpec, JobView, Policy
from mlfleet.infra.scheduling.workload import Workload


def view(name: str, gpus: int, *, limit_s: float, placement: tuple[int, ...] = (),
         partition: str = "default", executed_s: float = 0.0) -> JobView:
    spec = JobSpec(name=name, submit_s=0.0, gpus=gpus, duration_s=limit_s,
                   time_limit_s=limit_s, partition=partition)
    return JobView(spec=spec, placement=placement, age_s=10.0, attained_service_gpu_s=0.0,
                   executed_s=executed_s, progress=0.0)


def test_one_round_backfills_only_what_fits_before_the_reservation() -> None:
    cluster = ClusterView(nodes=2, gpus_per_node=4, free_gpus=(0, 4))
    jobs = [view("A", 4, limit_s=600.0, placement=(0, 0, 0, 0), executed_s=60.0),
            view("B", 8, limit_s=600.0),  # the whole cluster: reserved when A ends (540 s)
            view("C", 2, limit_s=300.0),  # ends before then: starts on node 1
            view("D", 2, limit_s=3600.0)]  # would delay B: waits
    # no priority factors: queue order is submission order
    got = SlurmPolicy(interval_s=60.0, weights=PriorityWeights()).schedule(10.0, jobs, cluster)
    assert got == {"A": (0, 0, 0, 0), "C": (1, 1)}


def test_higher_tier_preempts_lower() -> None:
    parts = (Partition(name="default", preempt_mode="requeue"),
             Partition(name="urgent", priority_tier=2))
    cluster = ClusterView(nodes=1, gpus_per_node=4, free_gpus=(0,))
    jobs = [view("low", 4, limit_s=600.0, placement=(0, 0, 0, 0)),
            view("hi", 2, limit_s=60.0, partition="urgent")]
    got = SlurmPolicy(partitions=parts).schedule(0.0, jobs, cluster)
    assert "low" not in got  # requeued; hi starts once its nodes are free (next round)


def test_end_to_end_on_the_engine() -> None:
    module, factory, _ = POLICIES["slurm"]
    policy: Policy = getattr(importlib.import_module(module), factory)(interval_s=60.0)
    rng = np.random.default_rng(3)
    specs = [JobSpec(name=f"j{i}", submit_s=float(rng.integers(0, 3600)),
                     gpus=int(rng.choice([1, 2, 4, 8])), duration_s=float(rng.integers(60, 3600)),
                     time_limit_s=3600.0, team=str(rng.choice(["a", "b"])))
             for i in range(40)]
    workload = Workload(name="t", specs=tuple(specs), kind="trace")
    result = simulate(workload.specs, workload.speeds(gpus_per_node=4), policy, nodes=2,
                      gpus_per_node=4)
    assert all(r.finish_s is not None for r in result.records)
    assert all(r.start_s is not None and r.start_s >= r.submit_s for r in result.records)

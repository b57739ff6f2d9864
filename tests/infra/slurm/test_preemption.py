"""Partition-tier preemption: a higher tier cancels lower-tier jobs, only as many as needed."""

from __future__ import annotations

from slurm_builders import config, job

from mlfleet.infra.scheduling.slurm.allocation import FreeNodes, Holding, Request
from mlfleet.infra.scheduling.slurm.config import Partition
from mlfleet.infra.scheduling.slurm.predict import Timing, predict
from mlfleet.infra.scheduling.slurm.preemption import victims_for

EXACT = Timing(end_overhead_s=0.0, pass_latency_s=0.0, bf_phase_s=0.0)


def holding(key: str, node: int, gpus: int, *, tier: int = 1, start_s: float = 0.0,
            preemptable: bool = True, priority: int = 1, order: int = 0) -> Holding:
    return Holding(key=key, nodes=(node,), gpus_per_node=gpus, cpus_per_node=1, start_s=start_s,
                   expected_end_s=start_s + 600.0, tier=tier, priority=priority,
                   preemptable=preemptable, order=order)


def test_takes_lowest_job_id_first_whatever_its_priority() -> None:
    # partition_prio ranks candidates by tier and node count, not by job priority
    free = FreeNodes(nodes=3, gpus_per_node=4, cpus_per_node=8)
    held = [holding("second", 1, 4, start_s=5.0, order=2), holding("first", 0, 4, order=1),
            holding("important", 2, 4, priority=5, order=3)]
    for h in held:
        free.take(h.nodes, h.gpus_per_node, 1)
    urgent = Request(key="U", order=9, submit_s=6.0, nodes=1, gpus_per_node=2, cpus_per_node=1,
                     time_limit_s=60.0, tier=2, priority=1)
    victims = victims_for(urgent, held, free)
    assert victims is not None and [v.key for v in victims] == ["first"]


def test_same_tier_and_off_partitions_are_never_preempted() -> None:
    free = FreeNodes(nodes=1, gpus_per_node=4, cpus_per_node=8)
    held = [holding("peer", 0, 2, tier=2), holding("guarded", 0, 2, preemptable=False)]
    for h in held:
        free.take(h.nodes, h.gpus_per_node, 1)
    urgent = Request(key="U", order=9, submit_s=0.0, nodes=1, gpus_per_node=4, cpus_per_node=1,
                     time_limit_s=60.0, tier=2, priority=1)
    assert victims_for(urgent, held, free) is None


def test_predicted_preemption_by_hand() -> None:
    jobs = [job("low1", gpus_per_node=4, duration_s=300.0, time_limit_s=600.0),
            job("low2", submit_s=1.0, gpus_per_node=4, duration_s=300.0, time_limit_s=600.0),
            job("hi", submit_s=10.0, partition="urgent", gpus_per_node=2, time_limit_s=60.0)]
    got = {p.name: p for p in predict(jobs, config(), timing=EXACT)}
    # equal priorities: the lower job id goes, and the urgent job starts in the same pass
    assert got["low1"].preempted and got["low1"].end_s == 10.0
    assert not got["low2"].preempted and got["hi"].start_s == 10.0 and got["hi"].nodes == (0,)


def test_without_preempt_mode_the_urgent_job_waits() -> None:
    cfg = config(partitions=(Partition(name="batch"), Partition(name="urgent", priority_tier=2)))
    jobs = [job("low", nodes=2, gpus_per_node=4, duration_s=100.0, time_limit_s=120.0),
            job("hi", submit_s=10.0, partition="urgent", gpus_per_node=2)]
    got = {p.name: p for p in predict(jobs, cfg, timing=EXACT)}
    assert not got["low"].preempted and got["hi"].start_s == 100.0

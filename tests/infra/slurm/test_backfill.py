"""Backfill on hand-worked cases: a small job starts early only if no reservation moves."""

from __future__ import annotations

from slurm_builders import config, job

from mlfleet.infra.scheduling.slurm.allocation import FreeNodes, Holding, Request
from mlfleet.infra.scheduling.slurm.backfill import backfill_pass
from mlfleet.infra.scheduling.slurm.predict import Timing, predict

EXACT = Timing(end_overhead_s=0.0, pass_latency_s=0.0, bf_phase_s=0.0)


def request(key: str, order: int, **kw: float) -> Request:
    fields = {"nodes": 1, "gpus_per_node": 1, "cpus_per_node": 1, "time_limit_s": 60.0}
    fields.update(kw)
    return Request(key=key, order=order, submit_s=0.0, tier=1, priority=1,
                   nodes=int(fields["nodes"]), gpus_per_node=int(fields["gpus_per_node"]),
                   cpus_per_node=int(fields["cpus_per_node"]),
                   time_limit_s=fields["time_limit_s"])


def busy_cluster() -> tuple[FreeNodes, list[Holding]]:
    """Node 0 fully used until t=120 (by its time limit); node 1 idle."""
    free = FreeNodes(nodes=2, gpus_per_node=4, cpus_per_node=8)
    free.take([0], 4, 1)
    held = Holding(key="A", nodes=(0,), gpus_per_node=4, cpus_per_node=1, start_s=0.0,
                   expected_end_s=120.0, tier=1, priority=1, preemptable=False)
    return free, [held]


def test_short_job_backfills_long_job_does_not() -> None:
    free, held = busy_cluster()
    big = request("B", 1, nodes=2, gpus_per_node=4, time_limit_s=60.0)  # reserved at 120
    short = request("C", 2, gpus_per_node=2, time_limit_s=60.0)  # ends by 70 < 120: starts
    long = request("D", 3, gpus_per_node=2, time_limit_s=180.0)  # would end at 190: waits
    result = backfill_pass(now_s=10.0, pending=[big, short, long], holdings=held, free=free)
    assert [s.key for s in result.starts] == ["C"]
    assert [(r.key, r.start_s) for r in result.reservations][0] == ("B", 120.0)


def test_easy_protects_only_the_first_blocked_job() -> None:
    # B (2 nodes) is reserved at 120; E (node 1, 4 GPUs, 200 s) cannot start now either
    # and Slurm reserves node 1 for it from 180 (after B); F (node 1, 2 GPUs, limit 300)
    # would overlap E's reservation: Slurm keeps F waiting, EASY (1 reservation) starts it
    # only if it does not delay B -- it would (F ends at 310 > 120), so neither starts F.
    # G (node 1, 1 GPU, limit 60) ends by 70 and delays nobody: both start it.
    free, held = busy_cluster()
    free.take([1], 2, 1)
    held.append(Holding(key="X", nodes=(1,), gpus_per_node=2, cpus_per_node=1, start_s=0.0,
                        expected_end_s=100.0, tier=1, priority=1, preemptable=False))
    pending = [request("B", 1, nodes=2, gpus_per_node=4), request("E", 2, gpus_per_node=4,
                                                                   time_limit_s=200.0),
               request("G", 3, gpus_per_node=1, time_limit_s=60.0)]
    for reservations in (None, 1):
        trial = free.copy()
        result = backfill_pass(now_s=10.0, pending=pending, holdings=held, free=trial,
                               reservations=reservations)
        assert [s.key for s in result.starts] == ["G"]
    conservative = backfill_pass(now_s=10.0, pending=pending, holdings=held, free=free.copy())
    easy = backfill_pass(now_s=10.0, pending=pending, holdings=held, free=free.copy(),
                         reservations=1)
    assert [r.key for r in conservative.reservations] == ["B", "E"]
    assert [r.key for r in easy.reservations] == ["B"]


def test_predicted_backfill_by_hand() -> None:
    jobs = [job("A", gpus_per_node=4, duration_s=100.0, time_limit_s=120.0),
            job("B", submit_s=1.0, nodes=2, gpus_per_node=4, time_limit_s=60.0),
            job("C", submit_s=2.0, gpus_per_node=2, duration_s=30.0, time_limit_s=60.0),
            job("D", submit_s=3.0, gpus_per_node=2, duration_s=30.0, time_limit_s=180.0)]
    got = {p.name: p for p in predict(jobs, config(), timing=EXACT)}
    assert got["A"].start_s == 0.0
    assert got["C"].start_s == 2.0 and got["C"].started_by == "backfill"  # ends 32 < 120
    assert got["B"].start_s == 100.0  # A ends early (100 < its limit 120)
    assert got["D"].start_s == 130.0  # not backfilled (it would delay B): after B (30 s)

"""Backfill on hand-worked cases: a small job starts early only if no reservation moves."""

from __future__ import annotations

from slurm_builders import config, job

from mlfleet.infra.scheduling.slurm.allocation import FreeNodes, Holding, Request
from mlfleet.infra.scheduling.slurm.backfill import Plan, backfill_pass
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


def _holding(key: str, node: int, gpus: int, end_s: float) -> Holding:
    return Holding(key=key, nodes=(node,), gpus_per_node=gpus, cpus_per_node=1, start_s=0.0,
                   expected_end_s=end_s, tier=1, priority=1, preemptable=False)


def test_whole_node_reservations_keep_small_jobs_off_a_reserved_node() -> None:
    # Node 0 runs a 3-GPU job until 100; node 1 is full until 300. A 2-GPU job is blocked
    # (reserved on node 0 at 100); a 1-GPU job for 200 s fits beside it by GPU count
    # (1 + 2 <= 4 at 100) but not if the reservation takes the whole node, as Slurm's
    # node_space plan does.
    def run(whole: tuple[int, int] | None) -> list[str]:
        free = FreeNodes(nodes=2, gpus_per_node=4, cpus_per_node=8)
        free.take([0], 3, 1)
        free.take([1], 4, 1)
        held = [_holding("A", 0, 3, 100.0), _holding("B", 1, 4, 300.0)]
        pending = [request("C", 1, gpus_per_node=2), request("D", 2, time_limit_s=200.0)]
        return [s.key for s in backfill_pass(now_s=0.0, pending=pending, holdings=held,
                                             free=free, whole_nodes=whole).starts]

    assert run(None) == ["D"]
    assert run((4, 8)) == []


def test_batched_will_run_ends_by_hand() -> None:
    # Running jobs end at 261, 276, 316.9 and 400 (now 216.9). Barrier at phase 0: 261 +
    # 30 - 261 % 30 = 270; the first batch takes ends <= 270 + 30 (261, 276) and starts at
    # its last; the window doubles to 60 (<= 330: 316.9), then to 120 and, as 400 > 390,
    # to 240 (<= 510: 400). At phase 9 the barrier is 300: one batch to 316.9, as
    # slurmctld's log showed for a real workload (docs/scheduling-slurm.md).
    free = FreeNodes(nodes=4, gpus_per_node=4, cpus_per_node=8)
    held = [_holding(k, i, 4, e) for i, (k, e) in
            enumerate([("A", 261.0), ("B", 276.0), ("C", 316.9), ("D", 400.0)])]
    for h in held:
        free.take(h.nodes, 4, 1)
    plan = Plan(now_s=216.9, free=free, holdings=held)
    assert plan.batch_ends(0.0) == [276.0, 316.9, 400.0]
    assert plan.batch_ends(9.0) == [316.9, 400.0]
    job2 = request("E", 1, gpus_per_node=2)
    exact = plan.earliest(job2, window_s=1e9)
    batched = plan.earliest(job2, window_s=1e9, batch_phase_s=9.0)
    assert exact is not None and (exact.start_s, exact.nodes) == (261.0, (0,))
    assert batched is not None and batched.start_s == 316.9

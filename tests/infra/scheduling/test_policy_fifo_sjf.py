"""FIFO and SJF: hand-worked schedules, head-of-line blocking, SJF's optimality."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_views import cluster, spec, step, view

from mlfleet.infra.scheduling.placement import pack, take
from mlfleet.infra.scheduling.policies import POLICIES
from mlfleet.infra.scheduling.policies.fifo import FifoPolicy
from mlfleet.infra.scheduling.policies.fifo import make as make_fifo
from mlfleet.infra.scheduling.policies.list_scheduling import (
    by_submission,
    list_schedule,
    non_preemptive,
    running_first,
)
from mlfleet.infra.scheduling.policies.options import PolicyOptionError
from mlfleet.infra.scheduling.policies.sjf import SjfPolicy
from mlfleet.infra.scheduling.policies.sjf import make as make_sjf
from mlfleet.infra.scheduling.types import JobSpec


def blocked_workload() -> list[JobSpec]:
    """A runs on 2 of 4 GPUs until 120 s; B (4 GPUs) and C (1 GPU) arrive at 30 s."""
    return [spec("A", 2, duration_s=120.0), spec("B", 4, submit_s=30.0),
            spec("C", 1, submit_s=30.0)]


def test_fifo_head_of_line_blocking_exact_schedule() -> None:
    run = step(FifoPolicy(), blocked_workload(), nodes=1, gpus_per_node=4)
    assert run.start_s == {"A": 0.0, "B": 120.0, "C": 180.0}
    assert run.finish_s == {"A": 120.0, "B": 180.0, "C": 240.0}
    # C fit on the two idle GPUs from 60 s, but B at the head of the queue blocked it
    assert run.rounds[1] == {"A": (0, 0)}


def test_sjf_lets_the_small_job_pass_the_blocked_one() -> None:
    run = step(SjfPolicy(), blocked_workload(), nodes=1, gpus_per_node=4)
    assert run.start_s == {"A": 0.0, "C": 60.0, "B": 120.0}
    assert run.finish_s == {"A": 120.0, "C": 120.0, "B": 180.0}


def test_fifo_never_preempts_and_keeps_placements() -> None:
    jobs = [spec(f"j{i}", 1 + i % 3, submit_s=10.0 * i, duration_s=60.0 * (1 + i % 4))
            for i in range(12)]
    run = step(FifoPolicy(), jobs, nodes=2, gpus_per_node=4)
    assert not run.preemptions
    for before, after in itertools.pairwise(run.rounds):
        assert all(after[n] == p for n, p in before.items() if n in after)


def mean_jct(order: tuple[float, ...]) -> float:
    """Mean completion time of single-GPU jobs run back to back in ``order`` from 0."""
    return sum(itertools.accumulate(order)) / len(order)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=7))
def test_sjf_minimises_mean_jct_over_every_permutation(units: list[int]) -> None:
    jobs = [spec(f"j{i}", 1, duration_s=60.0 * u) for i, u in enumerate(units)]
    run = step(SjfPolicy(), jobs)
    ours = sum(run.finish_s.values()) / len(jobs)
    best = min(mean_jct(p) for p in itertools.permutations([60.0 * u for u in units]))
    assert ours == pytest.approx(best, rel=1e-12)


def test_sjf_by_requested_gpu_time_uses_the_declared_limit() -> None:
    big_short = spec("big", 4, duration_s=60.0, time_limit_s=600.0)   # asks 2400 GPU-s
    small_long = spec("small", 1, duration_s=300.0, time_limit_s=600.0)  # asks 600 GPU-s
    jobs = [view(big_short), view(small_long)]
    order_oracle = SjfPolicy(size="remaining").schedule(0.0, jobs, cluster(1, 4))
    order_requested = SjfPolicy(size="gpu_time").schedule(0.0, jobs, cluster(1, 4))
    assert list(order_oracle) == ["big"]
    assert list(order_requested) == ["small"]


def test_preemptive_sjf_stops_a_longer_job_for_a_shorter_one() -> None:
    jobs = [spec("long", 1, duration_s=600.0), spec("short", 1, submit_s=30.0)]
    run = step(SjfPolicy(preemptive=True), jobs)
    assert run.finish_s == {"short": 120.0, "long": 660.0}
    assert run.preemptions == {"long": 1}
    assert step(SjfPolicy(), jobs).finish_s == {"long": 600.0, "short": 660.0}


def test_bad_options_are_one_line_errors() -> None:
    with pytest.raises(PolicyOptionError, match=r"policy 'sjf': size\(='biggest'\) is unknown; "
                                                r"known: remaining, gpu_time"):
        make_sjf(size="biggest")
    with pytest.raises(PolicyOptionError, match=r"policy 'fifo': unknown option\(s\) backfill; "
                                                r"known: interval_s"):
        make_fifo(backfill=True)
    with pytest.raises(PolicyOptionError, match=r"interval_s\(=0\) must be"):
        make_fifo(interval_s=0)


def test_options_given_as_text_are_converted() -> None:
    policy = make_sjf(interval_s="30", preemptive="true", size="gpu_time")
    assert (policy.interval_s, policy.preemptive, policy.size) == (30.0, True, "gpu_time")
    with pytest.raises(PolicyOptionError, match=r"preemptive\(='maybe'\) must be true or false"):
        make_sjf(preemptive="maybe")
    with pytest.raises(PolicyOptionError, match=r"interval_s\(='soon'\) must be a number"):
        make_fifo(interval_s="soon")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.booleans()), min_size=1, max_size=14),
       st.booleans())
def test_the_fast_non_preemptive_path_equals_list_scheduling(
        drawn: list[tuple[int, bool]], blocking: bool) -> None:
    free, views = [4, 4, 4], []
    for i, (gpus, running) in enumerate(drawn):
        placement = pack(free, gpus) if running else None
        if placement is not None:
            take(free, placement)
        views.append(view(spec(f"j{i}", gpus, submit_s=float(i % 3)), placement=placement or (),
                          order=i))
    slow = list_schedule(running_first(views, by_submission), cluster(3, 4), blocking=blocking)
    fast = non_preemptive(views, cluster(3, 4, tuple(free)), key=by_submission,
                          blocking=blocking)
    assert fast == slow


def test_rows_are_registered() -> None:
    assert POLICIES["fifo"][0].endswith(".fifo") and POLICIES["sjf"][0].endswith(".sjf")

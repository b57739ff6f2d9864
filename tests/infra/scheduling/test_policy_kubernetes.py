"""Kubernetes semantics: gang scheduling, priority order, preemption of lower priority only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_views import cluster, spec, step, view

from mlfleet.infra.scheduling.placement import free_after, pack, take
from mlfleet.infra.scheduling.policies.kubernetes import KubernetesPolicy, make
from mlfleet.infra.scheduling.policies.options import PolicyOptionError
from mlfleet.infra.scheduling.policies.preemption import victims
from mlfleet.infra.scheduling.types import JobView


def test_high_priority_preempts_and_the_victim_restarts_later() -> None:
    jobs = [spec("low", 4, duration_s=600.0), spec("high", 2, submit_s=30.0, priority=10)]
    run = step(KubernetesPolicy(), jobs, nodes=1, gpus_per_node=4)
    assert run.start_s == {"low": 0.0, "high": 60.0}
    assert run.finish_s == {"high": 120.0, "low": 660.0}
    assert run.preemptions == {"low": 1}


def test_equal_priority_never_preempts() -> None:
    jobs = [spec("first", 4, duration_s=600.0), spec("second", 2, submit_s=30.0)]
    run = step(KubernetesPolicy(), jobs, nodes=1, gpus_per_node=4)
    assert run.finish_s == {"first": 600.0, "second": 660.0}
    assert not run.preemptions


def test_no_preemption_option_waits() -> None:
    jobs = [spec("low", 4, duration_s=600.0), spec("high", 2, submit_s=30.0, priority=10)]
    run = step(make(preemption=False), jobs, nodes=1, gpus_per_node=4)
    assert run.finish_s == {"low": 600.0, "high": 660.0}


def test_victims_are_the_lowest_priority_and_most_recently_started() -> None:
    running = {"old": view(spec("old", 2, priority=1), placement=(0, 0), first_start_s=0.0),
               "new": view(spec("new", 2, priority=1), placement=(0, 0), first_start_s=60.0),
               "mid": view(spec("mid", 2, priority=5), placement=(0, 0), first_start_s=60.0)}
    held = {n: j.placement for n, j in running.items()}
    free = [0]
    assert victims(view(spec("h", 2, priority=10)), held, running, free) == ["new"]
    assert victims(view(spec("h", 4, priority=10)), held, running, free) == ["old", "new"]
    assert victims(view(spec("h", 6, priority=3)), held, running, free) is None
    assert victims(view(spec("h", 2, priority=1)), held, running, free) is None


JOB = st.tuples(st.integers(1, 6), st.integers(0, 3), st.booleans())  # gpus, priority, running


@settings(max_examples=60, deadline=None)
@given(st.lists(JOB, min_size=1, max_size=14))
def test_gang_and_priority_invariants(drawn: list[tuple[int, int, bool]]) -> None:
    c = cluster(3, 4)
    free = [4, 4, 4]
    views: list[JobView] = []
    for i, (gpus, priority, running) in enumerate(drawn):
        placement = pack(free, gpus) if running else None
        if placement is not None:
            take(free, placement)
        views.append(view(spec(f"j{i}", gpus, priority=priority), placement=placement or (),
                          order=i, first_start_s=0.0 if placement else None))
    chosen = KubernetesPolicy().schedule(60.0, views, c)
    free_after(c, chosen.values())  # never over capacity
    by_name = {j.spec.name: j for j in views}
    assert all(len(p) == by_name[n].spec.gpus for n, p in chosen.items())  # gang: all or none
    for p in views:
        if p.spec.name in chosen:
            continue
        # a waiting job could not fit even if every lower-priority job were stopped
        kept = [q for n, q in chosen.items() if by_name[n].spec.priority >= p.spec.priority]
        assert sum(free_after(c, kept)) < p.spec.gpus
        if p.placement:  # it was preempted: someone of higher priority took its place
            assert any(by_name[n].spec.priority > p.spec.priority and not by_name[n].placement
                       for n in chosen)


def test_bad_option() -> None:
    with pytest.raises(PolicyOptionError, match=r"preemption\(='perhaps'\) must be true or false"):
        make(preemption="perhaps")

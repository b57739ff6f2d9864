"""Elastic jobs: growth into idle GPUs, shrinking for newcomers, bounds respected."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_views import cluster, spec, step, view

from mlfleet.infra.scheduling.placement import free_after, pack, take
from mlfleet.infra.scheduling.policies.elastic import ElasticPolicy, make
from mlfleet.infra.scheduling.policies.options import PolicyOptionError
from mlfleet.infra.scheduling.types import JobView


def test_an_elastic_job_alone_grows_to_its_maximum() -> None:
    job = spec("E", 2, duration_s=600.0, min_gpus=1, max_gpus=4)
    run = step(ElasticPolicy(), [job], nodes=1, gpus_per_node=4)
    assert run.rounds[0] == {"E": (0, 0, 0, 0)}
    assert run.finish_s == {"E": 300.0}  # twice the GPUs, linear speed-up when packed


def test_an_elastic_job_shrinks_for_a_newcomer_and_regrows() -> None:
    jobs = [spec("E", 2, duration_s=600.0, min_gpus=1, max_gpus=4),
            spec("R", 2, submit_s=30.0, duration_s=60.0)]
    run = step(ElasticPolicy(), jobs, nodes=1, gpus_per_node=4)
    assert [len(r.get("E", ())) for r in run.rounds[:3]] == [4, 2, 4]
    assert run.rounds[1]["R"] == (0, 0)
    # E: 60 s at 4 GPUs (1/5 of the work), 60 s at 2 (1/10), then the rest at 4
    assert run.finish_s == {"R": 120.0, "E": 120.0 + 0.7 * 300.0}


def test_rigid_jobs_are_never_resized() -> None:
    run = step(ElasticPolicy(), [spec("R", 2, duration_s=120.0)], nodes=1, gpus_per_node=4)
    assert run.rounds[0] == {"R": (0, 0)}


def test_half_double_makes_every_job_elastic() -> None:
    run = step(make(bounds="half_double"), [spec("R", 2, duration_s=600.0)], nodes=1,
               gpus_per_node=4)
    assert run.finish_s == {"R": 300.0}


JOB = st.tuples(st.integers(1, 6), st.integers(0, 6), st.integers(0, 6), st.booleans())


@settings(max_examples=80, deadline=None)
@given(st.lists(JOB, min_size=1, max_size=12))
def test_counts_stay_within_bounds_and_capacity(drawn: list[tuple[int, int, int, bool]]) -> None:
    c = cluster(3, 4)
    free, views = [4, 4, 4], list[JobView]()
    for i, (gpus, down, up, running) in enumerate(drawn):
        low, high = max(1, gpus - down), gpus + up
        placement = pack(free, gpus) if running else None
        if placement is not None:
            take(free, placement)
        views.append(view(spec(f"j{i}", gpus, min_gpus=low, max_gpus=high),
                          placement=placement or (), order=i))
    chosen = ElasticPolicy().schedule(60.0, views, c)
    free_after(c, chosen.values())
    for job in views:
        held = len(chosen.get(job.spec.name, ()))
        low, high = job.spec.min_gpus or 0, min(job.spec.max_gpus or 0, 12)
        assert held == 0 and not job.placement or low <= held <= high
    if any(j.spec.name not in chosen for j in views):  # someone waits: no GPU is idle
        waiting_min = min(j.spec.min_gpus or 0 for j in views if j.spec.name not in chosen)
        assert sum(free_after(c, chosen.values())) < waiting_min


def test_bad_bounds_option() -> None:
    with pytest.raises(PolicyOptionError, match=r"bounds\(='any'\) is unknown; known: declared"):
        make(bounds="any")

"""Multifactor priority against hand-worked cases from Slurm's "Multifactor Priority Plugin" page."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.infra.scheduling.slurm.config import PriorityWeights
from mlfleet.infra.scheduling.slurm.priority import (
    PriorityFactors,
    age_factor,
    job_priority,
    job_size_factor,
    ratio_factor,
)

# The page's "Configuration Example": PriorityMaxAge=14-0, PriorityWeightAge=1000,
# PriorityWeightFairshare=10000, PriorityWeightJobSize=1000, PriorityWeightPartition=1000,
# PriorityWeightQOS=0, PriorityFavorSmall=NO.
DOC_WEIGHTS = PriorityWeights(age=1000, fairshare=10000, job_size=1000, partition=1000, qos=0,
                              max_age_s=14 * 86400.0, favor_small=False)


def test_doc_example_job_priority_by_hand() -> None:
    # a job that waited 7 days (age 0.5), whose user used exactly its share (classic
    # fair-share 2^-1 = 0.5), asking 25 of 100 nodes and 400 of 1600 CPUs (size 0.25),
    # in the only partition (factor 1): 500 + 5000 + 250 + 1000 = 6750, exact.
    factors = PriorityFactors(
        age=age_factor(7 * 86400.0, max_age_s=DOC_WEIGHTS.max_age_s), fairshare=0.5,
        job_size=job_size_factor(nodes=25, cpus=400, cluster_nodes=100, cluster_cpus=1600,
                                 favor_small=False),
        partition=ratio_factor(1, 1))
    assert factors.age == 0.5 and factors.job_size == 0.25
    assert job_priority(factors, DOC_WEIGHTS) == 6750


def test_age_caps_at_max_age() -> None:
    assert age_factor(30 * 86400.0, max_age_s=14 * 86400.0) == 1.0
    assert age_factor(-5.0, max_age_s=60.0) == 0.0


def test_favor_small_reverses_job_size() -> None:
    one = job_size_factor(nodes=1, cpus=1, cluster_nodes=4, cluster_cpus=32, favor_small=True)
    full = job_size_factor(nodes=4, cpus=32, cluster_nodes=4, cluster_cpus=32, favor_small=True)
    assert one == pytest.approx((0.75 + 31 / 32) / 2) and full == 0.0


def test_priority_truncates_and_never_reaches_zero() -> None:
    assert job_priority(PriorityFactors(job_size=0.9999), PriorityWeights(job_size=1000)) == 999
    assert job_priority(PriorityFactors(), PriorityWeights()) == 1


@given(st.integers(1, 64), st.integers(1, 64), st.booleans())
def test_job_size_factor_in_unit_interval_and_monotone(nodes: int, more: int,
                                                        favor_small: bool) -> None:
    cluster = 128
    small = job_size_factor(nodes=nodes, cpus=nodes, cluster_nodes=cluster,
                            cluster_cpus=cluster, favor_small=favor_small)
    big = job_size_factor(nodes=nodes + more, cpus=nodes + more, cluster_nodes=cluster,
                          cluster_cpus=cluster, favor_small=favor_small)
    assert 0.0 <= small <= 1.0 and 0.0 <= big <= 1.0
    assert (big < small) if favor_small else (big > small)

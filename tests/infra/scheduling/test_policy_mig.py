"""MIG profiles and layouts (NVIDIA MIG User Guide), fractional jobs under kubernetes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from policy_views import spec, step

from mlfleet.infra.scheduling.policies.kubernetes import KubernetesPolicy
from mlfleet.infra.scheduling.policies.mig import (
    MigLayout,
    profile_for,
    profiles_for,
    time_sliced_speed,
)
from mlfleet.infra.scheduling.policies.options import PolicyOptionError

A100 = {p.name.split(".")[0]: p for p in profiles_for("A100-40GB") if p.name != "1g.10gb"}


def carve(sizes: list[str]) -> MigLayout | None:
    """Instances created in order on one A100; None when one does not fit."""
    layout = MigLayout(instances={})
    for size in sizes:
        start = layout.start_for(A100[size], "A100-40GB")
        if start is None:
            return None
        layout.instances[start] = A100[size]
    return layout


@pytest.mark.parametrize("sizes", [["7g"], ["4g", "3g"], ["4g", "2g", "1g"],
                                   ["4g", "1g", "1g", "1g"], ["3g", "3g"],
                                   ["3g", "2g", "1g", "1g"], ["2g", "2g", "2g", "1g"],
                                   ["1g"] * 7])
def test_the_guides_layouts_fit_largest_first(sizes: list[str]) -> None:
    assert carve(sizes) is not None


@pytest.mark.parametrize("sizes", [["4g", "4g"], ["3g", "3g", "1g"], ["1g"] * 8,
                                   ["7g", "1g"], ["2g"] * 4])
def test_impossible_layouts_are_refused(sizes: list[str]) -> None:
    assert carve(sizes) is None


@given(st.lists(st.sampled_from(sorted(A100)), max_size=10))
def test_a_layout_never_overlaps_or_exceeds_seven_slices(sizes: list[str]) -> None:
    layout = MigLayout(instances={})
    for size in sizes:
        start = layout.start_for(A100[size], "A100-40GB")
        if start is not None:
            layout.instances[start] = A100[size]
    runs = [set(range(s, s + p.memory_slices)) for s, p in layout.instances.items()]
    assert sum(len(r) for r in runs) == len(set().union(*runs)) and max(set().union(*runs),
                                                                        default=0) < 8
    assert 0 <= layout.free_compute() <= 7


def test_double_memory_1g_instances_start_on_even_slices() -> None:
    wide = next(p for p in profiles_for("A100-40GB") if p.name == "1g.10gb")
    layout = MigLayout(instances={})
    for expected in (0, 2, 4, 6):  # the most options stay open from the left
        assert layout.starts_for(wide)[0] == expected
        layout.instances[expected] = wide
    assert layout.start_for(wide, "A100-40GB") is None


def test_profile_for_a_fraction() -> None:
    assert profile_for("A100-40GB", 0.1).name == "1g.5gb"
    assert profile_for("A100-40GB", 0.4).name == "3g.20gb"   # 3/7 = 0.43
    assert profile_for("H100-SXM", 0.5).name == "4g.40gb"   # 4/7 = 0.57
    with pytest.raises(PolicyOptionError, match=r"mig_gpu\(='V100'\) is unknown"):
        KubernetesPolicy(mig_gpu="V100")


def test_seven_small_jobs_share_one_gpu_and_a_whole_gpu_job_waits() -> None:
    small = [spec(f"s{i}", 1, gpu_fraction=1 / 7, duration_s=600.0) for i in range(7)]
    whole = spec("w", 1, submit_s=30.0, duration_s=60.0)
    run = step(KubernetesPolicy(), small + [whole], nodes=1, gpus_per_node=1)
    assert all(run.start_s[f"s{i}"] == 0.0 for i in range(7))
    assert run.start_s["w"] == 600.0  # the GPU is in MIG mode until its last instance goes


def test_two_3g_jobs_per_gpu_not_three() -> None:
    jobs = [spec(f"j{i}", 1, gpu_fraction=0.4, duration_s=600.0) for i in range(5)]
    run = step(KubernetesPolicy(), jobs, nodes=1, gpus_per_node=2)
    assert sorted(run.start_s.values()) == [0.0] * 4 + [600.0]


def test_time_slicing_shares_the_gpu() -> None:
    assert time_sliced_speed(1, 0.5) == 1.0
    assert time_sliced_speed(2, 0.5) == pytest.approx(0.95)  # half the time, 5 % switching
    assert time_sliced_speed(4, 0.5) == pytest.approx(0.475)

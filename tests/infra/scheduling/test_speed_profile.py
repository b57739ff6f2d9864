"""The profiled-job speed model against the artifact's profile CSVs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.infra.scheduling.pollux_data import DATA_DIR, read_numeric_csv
from mlfleet.infra.scheduling.speed.model import packed_counts
from mlfleet.infra.scheduling.speed.profile import (
    APPLICATIONS,
    canonical_counts,
    profile,
    statistical_gain,
)
from mlfleet.infra.scheduling.speed.profiled import ProfiledSpeed


@pytest.mark.parametrize("app", APPLICATIONS)
def test_measured_placements_return_the_csv_rows(app: str) -> None:
    """Every row whose placement is in the order allocations produce (decreasing GPUs
    per node, smallest rotation: what the artifact looks up) comes back exactly."""
    table = read_numeric_csv(DATA_DIR / "traces" / app / "placements.csv")
    prof = profile(app)
    checked = 0
    for i in range(table["placement"].size):
        counts = tuple(int(d) for d in str(int(table["placement"][i])))
        if canonical_counts(counts) != counts:
            continue
        checked += 1
        step, sync = prof.step_and_sync_s(counts, int(table["local_bsz"][i]))
        assert step == table["step_time"][i] and sync == table["sync_time"][i]
    assert checked >= 100


def test_canonical_order_is_decreasing_then_smallest_rotation() -> None:
    assert canonical_counts((1, 2, 4)) == (1, 4, 2)  # (4, 2, 1) rotated
    assert canonical_counts((4, 4, 2)) == (2, 4, 4)
    assert canonical_counts((0, 3)) == (3,)


def test_unmeasured_placement_interpolates_between_neighbours() -> None:
    prof = profile("cifar10")
    five = prof.step_and_sync_s((4, 4, 4, 4, 4), 128)[0]
    four = prof.step_and_sync_s((4, 4, 4, 4), 128)[0]
    assert math.isfinite(five) and five > 0.5 * four


@given(scale=st.floats(1.0, 64.0), sqr=st.floats(1e-3, 10.0), var=st.floats(0.0, 100.0))
def test_statistical_gain_between_one_and_scale(scale: float, sqr: float, var: float) -> None:
    gain = statistical_gain(sqr, var, scale)
    assert 1.0 - 1e-12 <= gain <= scale * (1 + 1e-12)


@given(app=st.sampled_from(APPLICATIONS), replicas=st.integers(1, 64), pick=st.floats(0, 1))
def test_batch_plan_covers_the_batch_within_per_gpu_cap(app: str, replicas: int,
                                                        pick: float) -> None:
    prof = profile(app)
    batch = int(prof.init_batch_size + pick * (prof.max_batch_size - prof.init_batch_size))
    atomic, accum = prof.batch_plan(replicas, batch)
    assert atomic <= prof.max_local_bsz
    total = replicas * atomic * (accum + 1)
    assert total <= prof.max_batch_size
    assert total >= min(batch, prof.max_batch_size - replicas * (accum + 1))


@settings(max_examples=15, deadline=None)
@given(chunk=st.integers(1, 600), app=st.sampled_from(["cifar10", "ncf", "bert"]))
def test_chunked_advance_finishes_when_one_long_advance_does(chunk: int, app: str) -> None:
    prof = profile(app)
    batch = prof.init_batch_size * 4
    whole = ProfiledSpeed(prof, batch_size=batch, gpus=4)
    whole.place(packed_counts(4, 4))
    total = whole.time_to_finish_s()
    parts = ProfiledSpeed(prof, batch_size=batch, gpus=4)
    parts.place(packed_counts(4, 4))
    elapsed, used = 0.0, None
    while used is None:
        used = parts.advance(chunk)
        elapsed += chunk if used is None else used
    assert abs(elapsed - total) <= 1.0  # epoch ends are whole seconds either way
    assert parts.fraction_done == pytest.approx(1.0)


def test_more_gpus_train_faster_but_less_than_linearly() -> None:
    job = ProfiledSpeed(profile("imagenet"), batch_size=3200, gpus=8)
    one, eight = job.rate((4,)), job.rate((4, 4))
    assert one < eight < 2 * one


def test_isolated_time_is_a_fresh_packed_run() -> None:
    job = ProfiledSpeed(profile("cifar10"), batch_size=2048, gpus=6)
    fresh = ProfiledSpeed(profile("cifar10"), batch_size=2048, gpus=6)
    fresh.place((4, 2))
    assert job.isolated_s() == fresh.time_to_finish_s() > 0

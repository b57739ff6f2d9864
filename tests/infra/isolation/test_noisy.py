"""The noisy-neighbour model: exact cases, a round-robin memory-controller simulation,
MIG and time-slicing by hand."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.infra.isolation import mig
from mlfleet.infra.isolation.noisy import (
    Job,
    colocated_rates,
    max_min_share,
    mig_rate,
    mig_slowdown,
    timesliced_rates,
)
from mlfleet.infra.roofline import Device

A100 = Device.from_accelerator("A100-80GB", "bf16")  # 312 TFLOP/s, 2.039 TB/s: ridge 153


def _job(name: str, intensity: float, busy: float) -> Job:
    return Job(name=name, intensity_flop_per_byte=intensity, busy=busy)


def test_two_memory_bound_jobs_over_the_bandwidth_split_it() -> None:
    """Two jobs at 1 FLOP/byte (memory-bound), each busy 80 %: demands 0.8 W each, 1.6 W
    together; each gets W/2, so runs at 0.5/0.8 = 62.5 % (slowdown 1.6)."""
    rates = colocated_rates([_job("a", 1, 0.8), _job("b", 1, 0.8)], A100)
    assert rates == pytest.approx([0.625, 0.625], rel=1e-12)


def test_a_light_neighbour_keeps_its_demand() -> None:
    """Demands 0.2 W and 1.0 W: max-min gives the light job its 0.2 W and the heavy one the
    remaining 0.8 W: rates 1 and 0.8."""
    rates = colocated_rates([_job("light", 1, 0.2), _job("heavy", 1, 1.0)], A100)
    assert rates == pytest.approx([1.0, 0.8], rel=1e-12)


def test_under_the_bandwidth_nobody_slows() -> None:
    assert colocated_rates([_job("a", 1, 0.3), _job("b", 1, 0.5)], A100).tolist() == [1.0, 1.0]


def test_compute_bound_jobs_share_the_flops() -> None:
    """Two jobs at 1,000 FLOP/byte (compute-bound, above the ridge of 153) busy 75 % each:
    1.5 P together, each gets P/2: rate 2/3."""
    rates = colocated_rates([_job("a", 1000, 0.75), _job("b", 1000, 0.75)], A100)
    assert rates == pytest.approx([2 / 3, 2 / 3], rel=1e-12)


def _round_robin_controller(demands_bytes_per_s: list[float], capacity_bytes_per_s: float,
                            *, horizon_s: float, request_bytes: float) -> list[float]:
    """A memory controller serving fixed-size requests one at a time at ``capacity``,
    round-robin over the jobs with a request waiting; each job issues requests at its
    demand, evenly spaced. Returns the bytes/s each job was served over the horizon."""
    n = len(demands_bytes_per_s)
    arrivals = [deque(np.arange(0.0, horizon_s, request_bytes / d).tolist())
                for d in demands_bytes_per_s]
    waiting: list[int] = [0] * n
    served = [0.0] * n
    service_s = request_bytes / capacity_bytes_per_s
    t, turn = 0.0, 0
    while t < horizon_s:
        for i in range(n):
            while arrivals[i] and arrivals[i][0] <= t:
                arrivals[i].popleft()
                waiting[i] += 1
        ready = [i for i in range(n) if waiting[(turn + i) % n]]
        if not ready:
            upcoming = [a[0] for a in arrivals if a]
            if not upcoming:
                break
            t = min(upcoming)
            continue
        pick = (turn + ready[0]) % n
        waiting[pick] -= 1
        served[pick] += request_bytes
        t += service_s
        turn = pick + 1
    return [s / horizon_s for s in served]


def test_max_min_share_matches_a_round_robin_controller_simulation() -> None:
    """Demands 0.1, 0.3, 0.5 and 0.6 of a unit bandwidth (1.5 together): water-filling
    gives 0.1, 0.3, 0.3, 0.3. A round-robin controller serving 20,000 requests of 1/1000
    over 20 s gives the same to 6e-14 relative; so it does for 0.8 + 0.8 (0.5 each) and
    0.2 + 1.0 (0.2 and 0.8), the cases above."""
    for demand in ([0.1, 0.3, 0.5, 0.6], [0.8, 0.8], [0.2, 1.0]):
        model = max_min_share(demand, 1.0)
        simulated = _round_robin_controller(demand, 1.0, horizon_s=20.0, request_bytes=1e-3)
        assert simulated == pytest.approx(model.tolist(), rel=1e-9)
    assert max_min_share([0.1, 0.3, 0.5, 0.6], 1.0).tolist() == pytest.approx(
        [0.1, 0.3, 0.3, 0.3], rel=1e-12)


@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=12), st.floats(0.01, 20.0))
def test_max_min_share_is_feasible_and_fair(demand: list[float], capacity: float) -> None:
    """Nobody gets more than it asks, the capacity is not exceeded (and used up when
    demands exceed it), and anyone short of its demand gets at least everyone's share."""
    share = max_min_share(demand, capacity)
    d = np.asarray(demand)
    assert np.all(share <= d * (1 + 1e-12)) and share.sum() <= capacity * (1 + 1e-9)
    if d.sum() > capacity:
        assert share.sum() == pytest.approx(capacity, rel=1e-9)
        short = share < d * (1 - 1e-9)
        assert np.all(share[short][:, None] >= share[None, :] * (1 - 1e-9))


def test_time_slicing_shares_device_time_less_the_switches() -> None:
    """Busy 80 % each, 2 ms slices with 0.1 ms switches: usable 2/2.1 = 95.2 % of the
    time, 47.6 % each: rate 0.476/0.8 = 59.5 %. Alone, no switch is paid."""
    rates = timesliced_rates([_job("a", 1, 0.8), _job("b", 1, 0.8)], slice_s=2e-3,
                             switch_s=1e-4)
    assert rates == pytest.approx([2 / 2.1 / 2 / 0.8] * 2, rel=1e-12)
    assert timesliced_rates([_job("a", 1, 0.8)], slice_s=2e-3, switch_s=1e-4).tolist() == [1.0]


def test_mig_slice_slows_by_its_bandwidth_or_compute_fraction() -> None:
    """3g.40gb holds 4/8 of the bandwidth and 3/7 of the compute. A memory-bound job
    (1 FLOP/byte) slows by 8/4 = 2; a compute-bound one (1,000) by 7/3. Busy 40 %: the
    memory-bound job needs 80 % of its instance and keeps up (rate 1); busy 80 %: 160 %,
    rate 1/1.6 = 62.5 %."""
    p = mig.profile_named("A100-80GB", "3g.40gb")
    assert mig_slowdown(_job("m", 1, 1), A100, p) == pytest.approx(2.0, rel=1e-12)
    assert mig_slowdown(_job("c", 1000, 1), A100, p) == pytest.approx(7 / 3, rel=1e-12)
    assert mig_rate(_job("m", 1, 0.4), A100, p) == 1.0
    assert mig_rate(_job("m", 1, 0.8), A100, p) == pytest.approx(0.625, rel=1e-12)


def test_mig_packing_counts_slices_and_idle_capacity() -> None:
    """3g.40gb + 3g.40gb: 6 of 7 compute slices (1/7 idle), all 8 memory slices. Adding
    a 1g.10gb needs a ninth memory slice: does not fit."""
    three = mig.profile_named("A100-80GB", "3g.40gb")
    packing = mig.pack((three, three))
    assert packing.fits and packing.idle_compute_fraction == pytest.approx(1 / 7)
    assert packing.idle_bandwidth_fraction == 0.0
    assert not mig.pack((three, three, mig.profile_named("A100-80GB", "1g.10gb"))).fits


def test_unknown_accelerator_or_profile_is_refused() -> None:
    with pytest.raises(InputError, match="known: A100-40GB"):
        mig.profiles_of("TPU-v5p")
    with pytest.raises(InputError, match="known: 1g.10gb"):
        mig.profile_named("A100-80GB", "9g.90gb")

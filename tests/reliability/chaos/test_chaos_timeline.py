"""Time to recover and phases on hand-built records (the numbers worked out by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.reliability.chaos.timeline import (
    Tolerance,
    bad_requests,
    phase,
    replica_load,
    time_to_recover_s,
)


def _records() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """100 req/s for 20 s at 10 ms; every 5th request scheduled in [10, 12.5) takes 3 s
    (a paused replica holding them); a stray blip of slow requests at 17.0-17.1 s."""
    t = np.arange(2000) / 100.0
    lat = np.full(2000, 0.010)
    idx = np.arange(2000)
    lat[(t >= 10) & (t < 12.5) & (idx % 5 == 0)] = 3.0
    lat[(t >= 17.0) & (t < 17.1)] = 0.5
    return t, lat, np.ones(2000, dtype=bool)


def test_time_to_recover_by_hand() -> None:
    t, lat, ok = _records()
    tol = Tolerance()
    base = phase(t, lat, ok, 0.0, 10.0)
    assert base.p99_s == pytest.approx(0.010)
    bad = bad_requests(lat, ok, baseline=base, tol=tol)
    # A window [s, s+1) is degraded while more than 5 % of its requests are bad: its
    # share of [10, 12.5) x 20 % > 0.05 -> 12.5 - s > 0.25 -> the last start is 12.0,
    # so recovery is at 13.0 s: 3.0 s after the fault. The blip at 17 s comes more than
    # hold_s (2 s) later: not this fault's.
    assert time_to_recover_s(t, bad, baseline_bad=0.0, tol=tol, fault_s=10.0,
                             horizon_s=20.0) == pytest.approx(3.0)


def test_no_visible_impact_is_zero() -> None:
    t, lat, ok = _records()
    bad = np.zeros(t.size, dtype=bool)
    assert time_to_recover_s(t, bad, baseline_bad=0.0, tol=Tolerance(), fault_s=5.0,
                             horizon_s=10.0) == 0.0


def test_failures_count_in_phases_and_load() -> None:
    t, lat, ok = _records()
    ok[100:110] = False
    ph = phase(t, lat, ok, 1.0, 2.0)
    assert ph.requests == 100 and ph.failed_fraction == pytest.approx(0.1)
    replica = (np.arange(2000) % 3).astype(np.int16)
    assert sum(replica_load(replica, ok, 3)) == 1990

"""The simulator's prediction: HAProxy detection times, HAProxy's random(2) draws, and
faults mapped onto the engine."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.reliability.chaos.faults import FaultStep
from mlfleet.reliability.chaos.prediction import (
    HealthCheck,
    detection_range_s,
    detection_s,
    duty_cycle_latency_s,
    predict,
    rejoin_s,
)

CHECK = HealthCheck(inter_s=0.5, fall=2, rise=2, timeout_s=1.0)


def test_detection_and_rejoin_by_hand() -> None:
    assert detection_s("kill", CHECK) == 0.0
    assert detection_s("stop", CHECK) == pytest.approx(0.25 + 2 * 1.0 + 0.5)
    assert detection_s("slow", CHECK) == float("inf")
    assert rejoin_s(CHECK) == pytest.approx(2 * 0.5)


def _arrivals() -> np.ndarray:
    return np.sort(np.random.default_rng(1).uniform(0, 20, 800))


def test_kill_moves_traffic_and_fails_nothing() -> None:
    sim = predict(arrival_s=_arrivals(), baseline_latency_s=np.array([0.01, 0.02]), replicas=3,
                  balance="random2", steps=[FaultStep(replica=0, action="kill", at_s=5.0)],
                  check=CHECK, slow_factor=2.0, restart_s=2.0, seed=0)
    assert sim.ok.all()
    assert not np.any((sim.replica == 0) & (sim.intended_s > 5.0))


def test_stop_holds_what_it_accepted_until_the_resume() -> None:
    # HAProxy stops sending at detection but never moves what the paused replica took:
    # those wait for SIGCONT (12 s) and are then served there.
    steps = [FaultStep(replica=1, action="stop", at_s=5.0),
             FaultStep(replica=1, action="cont", at_s=12.0)]
    sim = predict(arrival_s=_arrivals(), baseline_latency_s=np.array([0.01]), replicas=3,
                  balance="random2", steps=steps, check=CHECK, slow_factor=2.0, restart_s=2.0,
                  seed=0)
    detected = 5.0 + detection_s("stop", CHECK)
    held = (sim.intended_s >= 5.0) & (sim.intended_s < detected) & (sim.replica == 1)
    slow = sim.latency_s > 0.5
    assert sim.ok.all() and held.sum() > 5
    assert np.array_equal(slow, held)  # only those, and every one of them
    done = sim.intended_s[held] + sim.latency_s[held]
    assert np.all((done >= 12.0) & (done <= 12.0 + 0.01 * held.sum() + 1e-9))
    # back in rotation rise x inter after the resume
    back = sim.intended_s[(sim.replica == 1) & (sim.intended_s >= detected)]
    assert back.size and back.min() >= 12.0 + rejoin_s(CHECK)


def test_detection_of_a_refused_or_draining_replica_spans_one_probe_interval() -> None:
    # No probe timeout to wait for: the phase (0..inter) plus (fall - 1) intervals.
    assert detection_s("drain", CHECK) == pytest.approx(0.25 + 0.5)
    assert detection_s("kill", CHECK, redispatch=False) == pytest.approx(0.75)
    assert detection_range_s("drain", CHECK) == pytest.approx((0.5, 1.0))
    assert detection_range_s("stop", CHECK) == pytest.approx((2.5, 3.0))
    assert detection_s("stop", CHECK, phase_s=0.1) == pytest.approx(0.1 + 2.0 + 0.5)


def _kill_without_retries(phase_s: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    sim = predict(arrival_s=_arrivals(), baseline_latency_s=np.array([0.01, 0.02]), replicas=3,
                  balance="random2", steps=[FaultStep(replica=0, action="kill", at_s=5.0)],
                  check=CHECK, slow_factor=2.0, restart_s=2.0, seed=seed, redispatch=False,
                  phases_s=[phase_s])
    return sim.intended_s[~sim.ok], sim.replica[~sim.ok]


def test_kill_without_retries_fails_what_reaches_the_dead_replica_until_detection() -> None:
    for phase_s in (0.0, 0.25, 0.5):
        t, replica = _kill_without_retries(phase_s)
        down_s = 5.0 + detection_s("kill", CHECK, phase_s=phase_s, redispatch=False)
        assert t.size > 0 and np.all(replica == 0)
        assert np.all(t < down_s) and np.all(t > 5.0 - 0.1)  # in flight at the kill, or sent
    # More of the probe cycle left, more requests sent into the hole (over seeds).
    early = sum(_kill_without_retries(0.0, seed)[0].size for seed in range(10))
    late = sum(_kill_without_retries(0.5, seed)[0].size for seed in range(10))
    assert late > 1.5 * early


def test_drain_moves_traffic_after_detection_and_fails_nothing() -> None:
    sim = predict(arrival_s=_arrivals(), baseline_latency_s=np.array([0.01]), replicas=3,
                  balance="random2", steps=[FaultStep(replica=0, action="drain", at_s=5.0)],
                  check=CHECK, slow_factor=2.0, restart_s=2.0, seed=0)
    down_s = 5.0 + detection_s("drain", CHECK)
    assert sim.ok.all()
    assert np.any((sim.replica == 0) & (sim.intended_s > 5.0))  # it served on
    assert not np.any((sim.replica == 0) & (sim.intended_s > down_s))


def test_duty_cycle_latency_by_hand() -> None:
    # factor 4, period 50 ms: stopped 37.5 ms, then running 12.5 ms, in each period.
    since = np.array([0.0, 0.010, 0.040, 0.040, 0.0, 0.049])
    work = np.array([0.005, 0.005, 0.005, 0.020, 0.030, 0.001])
    expected = np.array([0.0425,  # wait 37.5, work 5
                         0.0325,  # wait 27.5, work 5
                         0.005,   # in the running window, fits
                         0.0575,  # 10 ms here, pause 37.5, 10 ms next window
                         0.1055,  # wait 37.5 + 12.5 + 37.5 + 12.5 + 37.5... see below
                         0.001])
    expected[4] = 0.0375 + 0.0125 + 0.0375 + 0.0125 + 0.0375 + 0.005
    assert duty_cycle_latency_s(since, work, slow_factor=4.0) == pytest.approx(expected)
    assert duty_cycle_latency_s(since, work, slow_factor=1.0) == pytest.approx(work)


def test_slow_delays_only_the_slowed_replica_within_its_window() -> None:
    steps = [FaultStep(replica=2, action="slow", at_s=5.0),
             FaultStep(replica=2, action="fast", at_s=10.0)]
    base = predict(arrival_s=_arrivals(), baseline_latency_s=np.array([0.01]), replicas=3,
                   balance="random2", steps=[], check=CHECK, slow_factor=4.0, restart_s=2.0,
                   seed=0, batch_slots=8)
    sim = predict(arrival_s=_arrivals(), baseline_latency_s=np.array([0.01]), replicas=3,
                  balance="random2", steps=steps, check=CHECK, slow_factor=4.0, restart_s=2.0,
                  seed=0, batch_slots=8)
    extra = sim.latency_s - base.latency_s
    inside = (sim.replica == 2) & (sim.intended_s >= 5.0) & (sim.intended_s < 10.0)
    assert sim.ok.all()
    # 10 ms of work: at most one pause on the way (it fits in one running window).
    assert np.all((extra[inside] >= 0) & (extra[inside] <= 0.0375 + 1e-12))
    assert np.any(extra[inside] > 0) and np.all(extra[~inside] == 0)

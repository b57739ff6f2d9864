"""The simulator's prediction: HAProxy detection times, HAProxy's random(2) draws, and
faults mapped onto the engine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from mlfleet.reliability.chaos.faults import FaultStep
from mlfleet.reliability.chaos.haproxy_random import HaproxyRandomBalancer
from mlfleet.reliability.chaos.prediction import HealthCheck, detection_s, predict, rejoin_s

CHECK = HealthCheck(inter_s=0.5, fall=2, rise=2, timeout_s=1.0)


def test_detection_and_rejoin_by_hand() -> None:
    assert detection_s("kill", CHECK) == 0.0
    assert detection_s("stop", CHECK) == pytest.approx(0.25 + 2 * 1.0 + 0.5)
    assert detection_s("slow", CHECK) == float("inf")
    assert rejoin_s(CHECK) == pytest.approx(2 * 0.5)


@dataclass
class _View:
    index: int
    outstanding: int
    alive: bool = True


def test_random2_sends_one_ninth_to_a_loaded_replica() -> None:
    # Two independent draws over 3: both land on the loaded one with probability 1/9.
    views = [_View(0, 50), _View(1, 0), _View(2, 0)]
    lb, rng = HaproxyRandomBalancer(draws=2), np.random.default_rng(0)
    n = 90_000
    hits = sum(lb.choose(None, views, rng) == 0 for _ in range(n))  # type: ignore[arg-type]
    sigma = np.sqrt(n * (1 / 9) * (8 / 9))
    assert abs(hits - n / 9) < 4 * sigma  # observed at seed 0 within 1 %


def _arrivals() -> np.ndarray:
    return np.sort(np.random.default_rng(1).uniform(0, 20, 800))


def test_kill_moves_traffic_and_fails_nothing() -> None:
    sim = predict(arrival_s=_arrivals(), baseline_latency_s=np.array([0.01, 0.02]), replicas=3,
                  balance="random2", steps=[FaultStep(replica=0, action="kill", at_s=5.0)],
                  check=CHECK, slow_factor=2.0, restart_s=2.0, seed=0)
    assert sim.ok.all()
    assert not np.any((sim.replica == 0) & (sim.intended_s > 5.0))


def test_stop_holds_requests_until_detection() -> None:
    steps = [FaultStep(replica=1, action="stop", at_s=5.0),
             FaultStep(replica=1, action="cont", at_s=12.0)]
    sim = predict(arrival_s=_arrivals(), baseline_latency_s=np.array([0.01]), replicas=3,
                  balance="random2", steps=steps, check=CHECK, slow_factor=2.0, restart_s=2.0,
                  seed=0)
    held = (sim.intended_s >= 5.0) & (sim.intended_s < 5.0 + detection_s("stop", CHECK))
    slow = sim.latency_s > 0.5
    assert sim.ok.all()
    assert np.any(held & slow)
    assert not np.any(slow & ~held)  # after detection nobody waits

"""The probe phase seen from the client's records: the last request HAProxy sent the
faulty replica, and the phase that detection time implies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlfleet.reliability.chaos.faults import FaultStep
from mlfleet.reliability.chaos.prediction import HealthCheck
from mlfleet.reliability.chaos.probe_phase import (
    expected_gap_s,
    observed_detection_s,
    observed_phase_s,
    step_phases,
)
from mlfleet.reliability.chaos.recorder import ClientRecords

CHECK = HealthCheck(inter_s=0.5, fall=2, rise=2, timeout_s=1.0)


def records(sent_s: list[float], status: list[int], replica: list[int]) -> ClientRecords:
    sent = np.array(sent_s)
    return ClientRecords(run_id="t", intended_s=sent, sent_s=sent, end_s=sent + 0.01,
                         status=np.array(status, dtype=np.int16),
                         attempts=np.ones(sent.size, dtype=np.int16),
                         replica=np.array(replica, dtype=np.int16),
                         ok_replies=np.array([200 <= s < 300 for s in status], dtype=np.int16),
                         server_s=np.full(sent.size, np.nan))


def test_kill_detection_is_the_last_unnamed_failure_before_the_restart() -> None:
    rec = records([3.9, 4.1, 4.6, 4.7, 5.5], [200, 503, 503, 200, 503], [0, -1, -1, 1, -1])
    episode = [FaultStep(replica=0, action="kill", at_s=4.0),
               FaultStep(replica=0, action="restart", at_s=5.0)]
    assert observed_detection_s(rec, episode, end_s=10.0) == pytest.approx(0.6)


def test_drain_detection_is_the_last_reply_from_the_replica() -> None:
    rec = records([3.9, 4.2, 4.45, 4.8, 7.5], [200] * 5, [0, 0, 0, 1, 0])
    episode = [FaultStep(replica=0, action="drain", at_s=4.0),
               FaultStep(replica=0, action="restart", at_s=7.0)]
    assert observed_detection_s(rec, episode, end_s=10.0) == pytest.approx(0.45)
    slow = [FaultStep(replica=0, action="slow", at_s=4.0)]
    assert math.isnan(observed_detection_s(rec, slow, end_s=10.0))


def test_phase_is_the_detection_less_its_value_at_phase_zero_clipped() -> None:
    assert observed_phase_s(0.7, "drain", CHECK, redispatch=True) == pytest.approx(0.2)
    assert observed_phase_s(0.45, "kill", CHECK, redispatch=False) == 0.0
    assert observed_phase_s(1.2, "drain", CHECK, redispatch=True) == 0.5
    # a paused replica's last hit is no reading of its phase: the expectation is used
    assert observed_phase_s(2.9, "stop", CHECK, redispatch=True) is None
    assert observed_phase_s(0.7, "kill", CHECK, redispatch=True) is None  # redispatched
    assert observed_phase_s(math.nan, "drain", CHECK, redispatch=True) is None


def test_phases_are_laid_out_on_each_episode_first_step() -> None:
    ep0 = [FaultStep(replica=0, action="kill", at_s=1.0),
           FaultStep(replica=0, action="restart", at_s=3.0)]
    ep1 = [FaultStep(replica=1, action="stop", at_s=2.0)]
    steps = sorted([*ep0, *ep1], key=lambda s: s.at_s)
    assert step_phases(steps, [ep0, ep1], [0.1, 0.3]) == [0.1, 0.3, None]


def test_expected_gap_is_the_mean_spacing_of_the_hits() -> None:
    rec = records([3.9, 4.1, 4.6, 4.7, 5.5], [200, 503, 503, 200, 503], [0, -1, -1, 1, -1])
    episode = [FaultStep(replica=0, action="kill", at_s=4.0),
               FaultStep(replica=0, action="restart", at_s=5.0)]
    assert expected_gap_s(rec, episode, end_s=10.0) == pytest.approx(0.6 / 2)  # 2 hits in 0.6 s
    one = records([4.1], [503], [-1])
    assert expected_gap_s(one, episode, end_s=10.0) == 0.0  # no rate from one hit
    assert expected_gap_s(rec, [FaultStep(replica=0, action="slow", at_s=4.0)], end_s=10.0) == 0.0


def test_the_gap_makes_the_phase_unbiased_on_poisson_hits() -> None:
    # Hits at rate 30/s until a detection at 0.8 s: the last hit falls short of it by
    # 1/30 s on average, and the corrected reading recovers the detection.
    rng = np.random.default_rng(0)
    raw, fixed = [], []
    for _ in range(400):
        t = np.cumsum(rng.exponential(1 / 30, 80))
        t = 4.0 + t[t < 0.8]
        rec = records(list(t), [503] * t.size, [-1] * t.size)
        episode = [FaultStep(replica=0, action="kill", at_s=4.0)]
        d = observed_detection_s(rec, episode, end_s=10.0)
        raw.append(d)
        fixed.append(d + expected_gap_s(rec, episode, end_s=10.0))
    assert np.mean(raw) == pytest.approx(0.8 - 1 / 30, abs=0.006)
    assert np.mean(fixed) == pytest.approx(0.8, abs=0.006)

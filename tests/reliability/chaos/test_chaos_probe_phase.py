"""The probe phase seen from the client's records: the last request HAProxy sent the
faulty replica, and the phase that detection time implies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlfleet.reliability.chaos.faults import FaultStep
from mlfleet.reliability.chaos.prediction import HealthCheck
from mlfleet.reliability.chaos.probe_phase import (
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
    assert observed_phase_s(2.9, "stop", CHECK, redispatch=True) == pytest.approx(0.4)
    assert observed_phase_s(9.0, "stop", CHECK, redispatch=True) == 0.5
    assert observed_phase_s(0.7, "kill", CHECK, redispatch=True) is None  # redispatched
    assert observed_phase_s(math.nan, "drain", CHECK, redispatch=True) is None


def test_phases_are_laid_out_on_each_episode_first_step() -> None:
    ep0 = [FaultStep(replica=0, action="kill", at_s=1.0),
           FaultStep(replica=0, action="restart", at_s=3.0)]
    ep1 = [FaultStep(replica=1, action="stop", at_s=2.0)]
    steps = sorted([*ep0, *ep1], key=lambda s: s.at_s)
    assert step_phases(steps, [ep0, ep1], [0.1, 0.3]) == [0.1, 0.3, None]

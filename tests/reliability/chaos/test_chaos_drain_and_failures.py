"""Acceptance on a real fleet (HAProxy 2.6, three ``mlfleet serve`` replicas, loopback),
no client retries and no HAProxy retries, in one run:

* a replica drained (SIGTERM) and restarted loses no request: clients see 0 failures,
  and HAProxy stops sending to it within the health-check arithmetic's interval;
* a replica killed (SIGKILL) then black-holes what HAProxy still sends it until its
  probes mark it down: a non-zero failed count, every failure an explicit status, the
  count inside the simulator's prediction interval (probe phase × routing seeds).
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from mlfleet.reliability.chaos.recorder import NoRetries
from mlfleet.reliability.chaos.report import chaos_report
from mlfleet.reliability.chaos.run import ChaosSpec, run_chaos

pytestmark = [
    pytest.mark.slow, pytest.mark.serial,
    pytest.mark.skipif(shutil.which("haproxy") is None and not os.environ.get("CI"),
                       reason="haproxy is not installed (scripts/test.sh installs it)"),
]

SLACK_S = 0.5
"""A busy host delays HAProxy's probes: the detection may end this much late."""


def test_drain_loses_nothing_and_a_kill_fails_what_the_simulator_predicts() -> None:
    spec = ChaosSpec(rate_rps=60, duration_s=14, seed=1, haproxy_retries=0,
                     faults=("drain@3s,restart@6s", "1:kill@10s"))
    run = run_chaos(spec, gate=NoRetries())
    report = chaos_report(run)
    out = report.outcomes
    assert out.holds, out.violations()
    assert out.pending == 0 and out.server_2xx == out.client_2xx
    drain, kill = report.episodes
    # The drain: nothing failed, and HAProxy stopped sending within [0.5, 1.0] s (+ slack).
    assert drain.failed == 0 and drain.real.during.failed_fraction == 0.0
    assert 0.0 < drain.detected_s <= drain.sim_detected_range_s[1] + SLACK_S
    rec = run.records
    restarted_s = next(a.done_s for a in run.applied if a.step.action == "restart")
    assert np.any(rec.ok & (rec.replica == 0) & (rec.sent_s > restarted_s))  # back in service
    # The kill: failures only around it, each with a status, counted as predicted.
    failed_at = rec.intended_s[~rec.ok]
    lo_s, hi_s = kill.sim_detected_range_s
    assert kill.failed == failed_at.size > 0
    assert np.all((failed_at > 10.0 - 0.2) & (failed_at < 10.0 + hi_s + SLACK_S)), failed_at
    # detected_s is the last failed request's send time: a lower bound of the detection
    # (probe_phase.py), so only its upper end is checked. A clean-clone CI run saw 0.33 s
    # against the probe arithmetic's 0.5 s: no request failed in the last 0.17 s or more
    # before HAProxy marked the replica down (noted in docs/serving-chaos.md).
    assert 0.0 < kill.detected_s <= hi_s + SLACK_S
    lo, hi = kill.sim_failed_range
    assert 0.8 * lo <= kill.failed <= 1.25 * hi, (kill.failed, kill.sim_failed_range)

"""Acceptance on a real fleet (HAProxy 2.6, three ``mlfleet serve`` replicas, loopback),
no client retries and no HAProxy retries, in one run:

* a replica drained (SIGTERM) and restarted loses no request: clients see 0 failures,
  and HAProxy stops sending to it within the health-check arithmetic's interval;
* five SIGKILLs (replicas 1, 2, 0, 1, 2, 6 s apart, each restarted 1.5 s later): a
  killed replica black-holes what HAProxy still sends it until its probes mark it down:
  failures only around each kill, each an explicit status, and the run's failed count
  within 20 % of the simulator's prediction at the probe phases the run had (issue 13's
  criterion; five kills make ~90 failures, whose own noise is ~10 %: a single kill's
  ~20 are too few to be predicted within 20 %, docs/serving-chaos.md).
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


KILLS_S = (10.0, 16.0, 22.0, 28.0, 34.0)
KILLS = tuple(f"{(k + 1) % 3}:kill@{t:g}s,restart@{t + 1.5:g}s" for k, t in enumerate(KILLS_S))


def test_drain_loses_nothing_and_kills_fail_what_the_simulator_predicts() -> None:
    spec = ChaosSpec(rate_rps=60, duration_s=40, seed=1, haproxy_retries=0,
                     faults=("drain@3s,restart@6s", *KILLS))
    run = run_chaos(spec, gate=NoRetries())
    report = chaos_report(run)
    out = report.outcomes
    assert out.holds, out.violations()
    assert out.pending == 0 and out.server_2xx == out.client_2xx
    drain, *kills = report.episodes
    rec = run.records
    failed_at = rec.intended_s[~rec.ok]
    # A request sent just before a kill and still held then fails too, and counts in the
    # episode it was sent in (the drain's, or the previous kill's): failures are checked
    # against the kills' windows, not per episode.
    windows = [(at_s - 0.2, at_s + kill.sim_detected_range_s[1] + SLACK_S)
               for kill, at_s in zip(kills, KILLS_S, strict=True)]
    # The drain: nothing failed, and HAProxy stopped sending within [0.5, 1.0] s (+ slack).
    assert not np.any(failed_at < windows[0][0]), failed_at
    assert 0.0 < drain.detected_s <= drain.sim_detected_range_s[1] + SLACK_S
    restarted_s = next(a.done_s for a in run.applied if a.step.action == "restart")
    assert np.any(rec.ok & (rec.replica == 0) & (rec.sent_s > restarted_s))  # back in service
    # The kills: failures only around them, each with a status, as many as predicted.
    assert len(kills) == len(KILLS_S) and sum(e.failed for e in report.episodes) == failed_at.size
    inside = [(failed_at > lo) & (failed_at < hi) for lo, hi in windows]
    assert np.all(np.any(inside, axis=0)), failed_at
    for kill, hit in zip(kills, inside, strict=True):
        assert hit.any(), windows
        # detected_s is the last failed request's send time: a lower bound of the
        # detection (probe_phase.py), so only its upper end is checked. A clean-clone CI
        # run saw 0.33 s against the probe arithmetic's 0.5 s (docs/serving-chaos.md).
        assert 0.0 < kill.detected_s <= kill.sim_detected_range_s[1] + SLACK_S
        lo, hi = kill.sim_failed_range
        assert 0.8 * lo <= kill.failed <= 1.25 * hi, (kill.failed, kill.sim_failed_range)
    real = sum(e.failed for e in report.episodes)
    predicted = sum(e.sim_failed_at_phase for e in report.episodes)
    assert abs(predicted - real) <= 0.2 * real, (real, predicted)

"""Acceptance on a real fleet: HAProxy 2.6 in front of three ``mlfleet serve`` replicas,
loopback only, open-loop load, faults injected with real signals.

* SIGKILL and SIGSTOP of one of three replicas under load lose no accepted request and
  answer none twice (client records and HAProxy's per-replica 2xx counters agree), and
  the simulator configured the same way predicts the failed fraction and the gray
  failure's time to recover;
* a retry storm is prevented: with one replica down and the survivors shedding, a client
  that retries every failure multiplies the load on them; a retry budget keeps it within
  the budget (measured from HAProxy's counters).
"""

from __future__ import annotations

import os
import shutil

import pytest

from mlfleet.reliability.chaos.recorder import EveryRetry
from mlfleet.reliability.chaos.report import chaos_report
from mlfleet.reliability.chaos.run import ChaosSpec, run_chaos
from mlfleet.reliability.chaos.storm import amplification, budget_amplification
from mlfleet.reliability.resilience.retry_budget import RetryBudget, RetryBudgetConfig

pytestmark = [
    pytest.mark.slow, pytest.mark.serial,
    pytest.mark.skipif(shutil.which("haproxy") is None and not os.environ.get("CI"),
                       reason="haproxy is not installed (scripts/test.sh installs it)"),
]

SHEDDING = ("--admission", "token_bucket", "--admission-param", "rate_per_s=25",
            "--admission-param", "burst=5")
"""Each replica admits 25 req/s: two survivors of a 100 req/s load shed about half."""


def test_kill_and_stop_lose_no_accepted_request() -> None:
    spec = ChaosSpec(rate_rps=60, duration_s=24, seed=1,
                     faults=("kill@4s,restart@8s", "1:stop@13s,cont@17s"))
    report = chaos_report(run_chaos(spec))
    out = report.outcomes
    assert out.holds, out.violations()
    assert out.pending == 0 and out.duplicate_ok == 0
    assert out.server_2xx == out.client_2xx
    # Nothing failed: the killed replica's refused connections and dropped requests were
    # redispatched by HAProxy, the paused one's requests were answered after SIGCONT.
    assert report.failed_fraction == report.sim_failed_fraction == 0.0
    # Per-replica load, the restarted replica included: the simulator within 20 %.
    for real_n, sim_n in zip(report.replica_load, report.sim_replica_load, strict=True):
        assert abs(sim_n - real_n) <= 0.2 * real_n, (report.replica_load, report.sim_replica_load)
    _kill, stop = report.episodes
    assert stop.real.during.p99_s > 1.0  # clients did see the gray failure
    # Its time to recover is HAProxy's detection (probes timing out) plus one window:
    # the simulator uses the expected detection; the real one varies with the probe's
    # phase (1.25-2.93 s measured), so the real recovery is at most one probe interval
    # later than predicted, and never before one probe timed out.
    real, sim = stop.real.time_to_recover_s, stop.sim.time_to_recover_s
    assert 1.0 <= real <= sim + spec.check_interval_s, (real, sim)
    # Issue 13's 20 %, plus the measurement's resolution (windows step by 0.25 s): runs
    # here gave real 2.50-3.25 s against 2.75-3.25 s predicted.
    assert abs(sim - real) <= 0.2 * real + 0.25, (real, sim)
    # p99 during the pause: the requests the paused replica accepted wait for SIGCONT on
    # both sides (HAProxy never moves them); runs here were within 2-5 %.
    p99, sim_p99 = stop.real.during.p99_s, stop.sim.during.p99_s
    assert abs(sim_p99 - p99) <= 0.2 * p99, (p99, sim_p99)


@pytest.mark.parametrize("budgeted", [False, True])
def test_retry_budget_prevents_a_storm(budgeted: bool) -> None:
    spec = ChaosSpec(rate_rps=100, duration_s=8, faults=("kill@0s",), server_extra=SHEDDING)
    config = RetryBudgetConfig(ratio=0.2, min_retries=3, window_s=10.0)
    run = run_chaos(spec, gate=RetryBudget(config) if budgeted else EveryRetry())
    amp = amplification(run, live=[1, 2])
    bound = budget_amplification(ratio=config.ratio, min_retries=config.min_retries,
                                 requests=amp.requests_sent)
    assert amp.replica_requests >= amp.client_attempts - 1  # HAProxy saw every attempt
    if budgeted:
        assert amp.measured <= bound + 1.0 / amp.requests_sent  # + the one /v1/info
    else:
        assert amp.measured > 2.0 * bound  # the storm: up to 4 attempts per request

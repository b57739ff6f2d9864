"""CUSUM: its run length against Siegmund's approximation and the published table, and
latency regressions in the serving simulator's queue (detection rate, delay, false alarms)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mlfleet.ops.debug.changepoints import CusumConfig, cusum, siegmund_arl, simulated_arl
from mlfleet.ops.debug.latency_regression import RegressionRun, delay_and_false_alarms

# (δ, h, runs, published): one-sided ARL at k = 0.5. Published: Montgomery, Introduction to
# Statistical Quality Control, Table 9.3 (two-sided tabular CUSUM: 168 and 465 in control,
# i.e. 336 and 930 one-sided by symmetry; 8.38 and 10.4 at δ = 1).
ARL_CASES = [(0.0, 4.0, 4000, 336.0), (1.0, 4.0, 4000, 8.38), (0.0, 5.0, 2000, 930.0),
             (1.0, 5.0, 4000, 10.4), (2.0, 5.0, 4000, None)]


@pytest.mark.parametrize(("delta", "h", "runs", "published"), ARL_CASES)
def test_simulated_run_length_matches_siegmund_and_the_table(delta: float, h: float, runs: int,
                                                             published: float | None) -> None:
    mean, se = simulated_arl(delta=delta, k=0.5, h=h, runs=runs,
                             rng=np.random.default_rng([int(10 * delta), int(h)]))
    approx = siegmund_arl(delta, k=0.5, h=h)
    # observed: 339.3±5.2 vs 338.1; 8.46±0.08 vs 8.34; 952.8±21 vs 938.2; 10.27 vs 10.34;
    # 3.99 vs 3.89: within 4 standard errors or 3% (the approximation's own error).
    assert abs(mean - approx) <= max(4 * se, 0.03 * approx), (mean, se, approx)
    if published is not None:
        assert abs(mean - published) <= max(4 * se, 0.03 * published), (mean, published)


def test_siegmund_is_continuous_at_zero_drift() -> None:
    assert siegmund_arl(0.5, k=0.5, h=4) == pytest.approx(5.166**2)
    assert siegmund_arl(0.5 + 1e-6, k=0.5, h=4) == pytest.approx(5.166**2, rel=1e-4)


def test_a_step_is_found_once_at_its_index_and_the_new_normal_is_learned() -> None:
    rng = np.random.default_rng(0)
    x = np.exp(rng.normal(0, 0.05, 400))
    x[150:] *= 1.5
    x[300:] *= 1.5  # a second regression on top of the first
    found = cusum(x, CusumConfig())
    assert len(found) == 2  # the estimate is the last S = 0 before the alarm: within a few
    assert abs(found[0].change_index - 150) <= 3 and abs(found[1].change_index - 300) <= 3
    assert found[0].after / found[0].before == pytest.approx(1.5, rel=0.05)


RUN = RegressionRun(rate_per_s=100, service_mean_s=0.02, change_s=200, duration_s=400)
"""4 servers at utilisation 0.5, service +slowdown from t = 200 s, 1 s windows."""


@pytest.mark.slow
@pytest.mark.parametrize(("slowdown", "min_detected", "max_delay_s"), [
    (1.1, 1.0, 30.0),   # observed: 40/40 detected, median delay 13.5 s
    (1.3, 1.0, 10.0),   # observed: 40/40, 5 s
    (2.0, 1.0, 4.0),    # observed: 40/40, 4 s (the floor: h / (clip - k) windows)
])
def test_regressions_in_the_serving_queue_are_found_fast(slowdown: float, min_detected: float,
                                                         max_delay_s: float) -> None:
    stats = delay_and_false_alarms(range(40), dataclasses.replace(RUN, slowdown=slowdown))
    assert stats.detected / stats.runs >= min_detected
    assert stats.median_delay_s <= max_delay_s
    assert stats.change_error_s <= 5.0  # the change time is located within 5 windows


@pytest.mark.slow
def test_false_alarm_rate_without_a_change() -> None:
    stats = delay_and_false_alarms(range(40), dataclasses.replace(RUN, slowdown=1.0,
                                                                  change_s=400))
    # observed: 9 alarms in 40 x 340 s (3.8 h): 2.4 per hour of 1 s windows
    assert stats.false_alarms_per_hour <= 4.0
    assert math.isnan(stats.median_delay_s)


def test_plain_cusum_alarms_far_more_often_on_queue_latency() -> None:
    """Why the defaults winsorise and use h = 8: Page's plain CUSUM with h = 5."""
    plain = CusumConfig(h=5.0, clip=math.inf, baseline=30)
    run = dataclasses.replace(RUN, slowdown=1.0, change_s=400)
    robust = delay_and_false_alarms(range(10), run)
    naive = delay_and_false_alarms(range(10), run, plain)
    assert naive.false_alarms >= 5 * max(robust.false_alarms, 1)

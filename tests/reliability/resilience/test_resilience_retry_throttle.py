"""gRPC's retry throttle against a simulation of its own rule, and against the budget:
the throttle is a switch at ``f = r / (1 + r)``, the budget a cap at ``ratio``."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.reliability.resilience.clock import ManualClock
from mlfleet.reliability.resilience.retry_budget import RetryBudget, RetryBudgetConfig
from mlfleet.reliability.resilience.retry_throttle import (
    RetryThrottle,
    RetryThrottleConfig,
    switch_failure_rate,
)


def retries_per_request(f: float, *, use_budget: bool, n: int = 200_000) -> float:
    """Every request tries once and retries each failure (up to 3 retries) while allowed;
    attempts fail independently with probability ``f``."""
    rng, clock = np.random.default_rng(5), ManualClock()
    throttle = RetryThrottle(RetryThrottleConfig(max_tokens=10, token_ratio=0.1))
    budget = RetryBudget(RetryBudgetConfig(ratio=0.1, min_retries=0, window_s=10), clock=clock)
    retries = 0
    for _ in range(n):
        clock.advance(0.01)
        budget.record_request()
        for attempt in range(4):
            failed = rng.random() < f
            if not use_budget:
                (throttle.on_failure if failed else throttle.on_success)()
            if not failed or attempt == 3:
                break
            if not (budget.try_retry() if use_budget else throttle.retry_allowed()):
                break
            retries += 1
    return retries / n


def test_switch_rate_of_grpc_defaults() -> None:
    assert switch_failure_rate(0.1) == pytest.approx(1 / 11)


@pytest.mark.parametrize("f", [0.02, 0.05])
def test_well_below_the_switch_every_retry_is_allowed(f: float) -> None:
    unthrottled = f + f**2 + f**3  # 1 + f + f² + f³ attempts per request
    assert retries_per_request(f, use_budget=False) == pytest.approx(unthrottled, rel=0.06)


def test_near_the_switch_the_walk_throttles_early() -> None:
    """At f = 0.08 (drift +0.012 per attempt) a 10-token bucket still dips below half:
    only part of the retries are allowed."""
    f = 0.08
    share = retries_per_request(f, use_budget=False) / (f + f**2 + f**3)
    assert 0.3 < share < 0.95


@pytest.mark.parametrize("f", [0.2, 0.5, 0.9])
def test_above_the_switch_retries_are_throttled_and_the_budget_caps(f: float) -> None:
    throttled = retries_per_request(f, use_budget=False)
    assert throttled < 0.5 * (f + f**2 + f**3)
    budgeted = retries_per_request(f, use_budget=True)
    assert budgeted <= 0.1 + 1e-9  # the budget's ratio, whatever f

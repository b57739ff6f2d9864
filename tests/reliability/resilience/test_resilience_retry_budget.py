"""Retry budget: a hypothesis state machine against a reference that keeps every event,
threads withdrawing at once, and the retry-storm bound over a long run."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mlfleet.errors import InputError
from mlfleet.reliability.resilience.clock import ManualClock
from mlfleet.reliability.resilience.retry_budget import RetryBudget, RetryBudgetConfig


def test_minimum_then_ratio() -> None:
    budget = RetryBudget(RetryBudgetConfig(ratio=0.5, min_retries=2, window_s=10),
                         clock=ManualClock())
    assert budget.try_retry() and budget.try_retry() and not budget.try_retry()
    for _ in range(4):
        budget.record_request()
    assert budget.allowance() == 4.0
    assert budget.try_retry() and budget.try_retry() and not budget.try_retry()
    snap = budget.snapshot()
    assert (snap.retries_granted_total, snap.retries_denied_total) == (4, 2)


def test_window_expiry_restores_the_budget() -> None:
    clock = ManualClock()
    budget = RetryBudget(RetryBudgetConfig(ratio=0.0, min_retries=1, window_s=2), clock=clock)
    assert budget.try_retry() and not budget.try_retry()
    clock.advance(2.0)
    assert budget.try_retry()


def test_retry_storm_is_bounded_when_everything_fails() -> None:
    """Every request fails and every failure asks for 3 retries: retries stay within
    ratio × requests + min_retries per window, so load is at most (1 + ratio) × offered."""
    clock, rng = ManualClock(), np.random.default_rng(7)
    cfg = RetryBudgetConfig(ratio=0.2, min_retries=3, window_s=10)
    budget = RetryBudget(cfg, clock=clock)
    sent = 0
    for gap_s in rng.exponential(1 / 100, size=20_000):  # 100 req/s for about 200 s
        clock.advance(float(gap_s))
        budget.record_request()
        sent += 1 + sum(budget.try_retry() for _ in range(3))
    snap = budget.snapshot()
    windows = clock() / cfg.window_s
    assert snap.retries_granted_total <= cfg.ratio * 20_000 + cfg.min_retries * (windows + 1)
    assert sent / 20_000 <= 1 + cfg.ratio + 0.01
    assert snap.retries_denied_total > 2 * 20_000


def test_threads_withdraw_exactly_the_allowance() -> None:
    budget = RetryBudget(RetryBudgetConfig(ratio=0.1, min_retries=5, window_s=1e6),
                         clock=ManualClock())
    for _ in range(1000):
        budget.record_request()
    granted = [0] * 8

    def worker(i: int) -> None:
        granted[i] = sum(budget.try_retry() for _ in range(100))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 105 == budget.snapshot().retries_granted_total


def test_bad_config() -> None:
    with pytest.raises(InputError, match=r"ratio\(=-0.1\)"):
        RetryBudgetConfig(ratio=-0.1)
    with pytest.raises(InputError, match=r"window_s\(=0\)"):
        RetryBudgetConfig(window_s=0)


class RetryBudgetMachine(RuleBasedStateMachine):
    """Requests, retries and time in any order; the reference keeps every timestamp."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()
        self.cfg = RetryBudgetConfig(ratio=0.25, min_retries=1, window_s=5.0)
        self.budget = RetryBudget(self.cfg, clock=self.clock)
        self.requests: list[float] = []
        self.retries: list[float] = []

    def in_window(self, times: list[float]) -> int:
        return sum(t > self.clock() - self.cfg.window_s for t in times)

    @rule()
    def request(self) -> None:
        self.budget.record_request()
        self.requests.append(self.clock())

    @rule()
    def retry(self) -> None:
        allowed = (self.in_window(self.retries) + 1
                   <= self.cfg.ratio * self.in_window(self.requests) + self.cfg.min_retries)
        assert self.budget.try_retry() == allowed
        if allowed:
            self.retries.append(self.clock())

    @rule(dt=st.sampled_from([0.1, 1.0, 2.5, 5.0]))
    def tick(self, dt: float) -> None:
        self.clock.advance(dt)

    @invariant()
    def counts_match(self) -> None:
        snap = self.budget.snapshot()
        assert snap.requests_in_window == self.in_window(self.requests)
        assert snap.retries_in_window == self.in_window(self.retries)
        assert snap.retries_granted_total == len(self.retries)


TestRetryBudgetMachine = RetryBudgetMachine.TestCase
TestRetryBudgetMachine.settings = settings(max_examples=100, stateful_step_count=50,
                                           deadline=None)

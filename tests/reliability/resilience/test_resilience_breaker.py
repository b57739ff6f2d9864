"""Circuit breaker: transitions by example, and a hypothesis state machine against a
plain reference model of resilience4j's documented semantics (count and time windows),
plus threads reporting at once."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mlfleet.errors import InputError
from mlfleet.reliability.resilience.breaker import BreakerConfig, BreakerState, CircuitBreaker
from mlfleet.reliability.resilience.clock import ManualClock


def make(clock: ManualClock | None = None, **overrides: Any) -> CircuitBreaker:
    fields: dict[str, Any] = dict(failure_rate_threshold=0.5, slow_call_rate_threshold=1.0,
                                  slow_call_duration_s=1.0, window_size=4, minimum_calls=4,
                                  wait_in_open_s=10.0, half_open_calls=2)
    return CircuitBreaker(BreakerConfig(**(fields | overrides)), clock=clock or ManualClock())


def state_of(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state  # a call: mypy does not keep a narrowed property across steps


def call(breaker: CircuitBreaker, *, ok: bool, duration_s: float = 0.0) -> bool:
    ticket = breaker.try_acquire()
    if ticket is None:
        return False
    if ok:
        breaker.on_success(ticket, duration_s=duration_s)
    else:
        breaker.on_failure(ticket, duration_s=duration_s)
    return True


def test_opens_on_failure_rate_only_after_minimum_calls() -> None:
    breaker = make()
    for ok in (False, False, True):
        call(breaker, ok=ok)
    assert state_of(breaker) is BreakerState.CLOSED  # 2/3 failed, but only 3 < 4 calls
    call(breaker, ok=True)
    assert state_of(breaker) is BreakerState.OPEN  # 2/4 = 50 % >= 50 %


def test_opens_on_slow_calls_that_succeed() -> None:
    breaker = make(slow_call_rate_threshold=0.75)
    for duration_s in (2.0, 2.0, 2.0, 0.1):
        call(breaker, ok=True, duration_s=duration_s)
    assert state_of(breaker) is BreakerState.OPEN


def test_open_rejects_until_wait_then_probes_close_it() -> None:
    clock = ManualClock()
    breaker = make(clock)
    for _ in range(4):
        call(breaker, ok=False)
    clock.advance(9.9)
    assert breaker.try_acquire() is None
    clock.advance(0.1)
    first, second = breaker.try_acquire(), breaker.try_acquire()
    assert state_of(breaker) is BreakerState.HALF_OPEN and breaker.try_acquire() is None
    assert first is not None and second is not None
    breaker.on_success(first, duration_s=0.0)
    breaker.on_success(second, duration_s=0.0)
    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.snapshot().rejected_total == 2


def test_failed_probe_reopens_and_waits_again() -> None:
    clock = ManualClock()
    breaker = make(clock)
    for _ in range(4):
        call(breaker, ok=False)
    clock.advance(10)
    assert call(breaker, ok=True) and call(breaker, ok=False)
    assert state_of(breaker) is BreakerState.OPEN
    clock.advance(5)
    assert breaker.try_acquire() is None


def test_time_window_forgets_old_failures() -> None:
    clock = ManualClock()
    breaker = make(clock, window_kind="time", window_size=5.0, minimum_calls=3)
    call(breaker, ok=False)
    call(breaker, ok=False)
    clock.advance(5.0)
    call(breaker, ok=True)
    call(breaker, ok=True)
    call(breaker, ok=False)
    assert state_of(breaker) is BreakerState.CLOSED  # 1/3 in the window; 3/5 over all time


def test_stale_reports_and_ignored_probes() -> None:
    clock = ManualClock()
    breaker = make(clock)
    stale = breaker.try_acquire()
    for _ in range(4):
        call(breaker, ok=False)
    assert stale is not None
    breaker.on_success(stale, duration_s=0.0)  # a call of the closed state: dropped
    clock.advance(10)
    probe = breaker.try_acquire()
    assert probe is not None
    breaker.on_ignored(probe)  # never made: its slot comes back
    assert call(breaker, ok=True) and call(breaker, ok=True)
    assert state_of(breaker) is BreakerState.CLOSED


@pytest.mark.parametrize("overrides, needle", [
    ({"failure_rate_threshold": 0.0}, "failure_rate_threshold(=0)"),
    ({"window_kind": "sliding"}, "window_kind(='sliding')"),
    ({"window_size": 2.5}, "window_size(=2.5)"),
    ({"half_open_calls": 0}, "half_open_calls(=0)"),
])
def test_bad_config_names_the_value(overrides: dict[str, Any], needle: str) -> None:
    with pytest.raises(InputError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        make(**overrides)


def test_concurrent_reports_from_threads() -> None:
    """Eight threads failing at once: the breaker opens once and counts every rejection."""
    breaker = make(window_size=100, minimum_calls=100, wait_in_open_s=1e9)
    outcomes: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(200):
            made = call(breaker, ok=False)
            with lock:
                outcomes.append(made)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = breaker.snapshot()
    assert snap.state is BreakerState.OPEN and snap.transitions_total == 1
    assert outcomes.count(False) == snap.rejected_total == 1600 - outcomes.count(True)
    assert 100 <= outcomes.count(True) <= 100 + 8  # permits handed out before it opened


class BreakerModel:
    """The reference: resilience4j's rules written as plainly as possible."""

    def __init__(self, cfg: BreakerConfig) -> None:
        self.cfg, self.state, self.window = cfg, "closed", deque[tuple[float, bool, bool]]()
        self.opened_at, self.probes, self.gen = 0.0, 0, 0

    def acquire(self, now: float) -> int | None:
        if self.state == "open" and now - self.opened_at >= self.cfg.wait_in_open_s:
            self.go("half_open", now)
        if self.state == "open" or (self.state == "half_open"
                                    and self.probes == self.cfg.half_open_calls):
            return None
        self.probes += self.state == "half_open"
        return self.gen

    def report(self, gen: int, now: float, failed: bool, duration: float) -> None:
        if gen != self.gen:
            return
        self.window.append((now, failed, duration > self.cfg.slow_call_duration_s))
        if self.state == "closed" and self.cfg.window_kind == "count":
            self.window = deque(list(self.window)[-int(self.cfg.window_size):])
        if self.state == "closed" and self.cfg.window_kind == "time":
            self.window = deque(o for o in self.window if o[0] > now - self.cfg.window_size)
        n = len(self.window)
        bad = (sum(o[1] for o in self.window) / n >= self.cfg.failure_rate_threshold
               or sum(o[2] for o in self.window) / n >= self.cfg.slow_call_rate_threshold)
        if self.state == "closed" and n >= self.cfg.minimum_calls and bad:
            self.go("open", now)
        elif self.state == "half_open" and n == self.cfg.half_open_calls:
            self.go("open" if bad else "closed", now)

    def go(self, state: str, now: float) -> None:
        self.state, self.window, self.probes, self.gen = state, deque(), 0, self.gen + 1
        self.opened_at = now if state == "open" else self.opened_at


class BreakerMachine(RuleBasedStateMachine):
    """Random interleavings of acquire / report / time against the reference model."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()
        self.breaker: CircuitBreaker | None = None
        self.model: BreakerModel | None = None
        self.pending: list[tuple[int, int]] = []

    @precondition(lambda self: self.breaker is None)
    @rule(kind=st.sampled_from(["count", "time"]), size=st.integers(1, 6),
          minimum=st.integers(1, 6), probes=st.integers(1, 3),
          threshold=st.sampled_from([0.25, 0.5, 1.0]))
    def configure(self, kind: str, size: int, minimum: int, probes: int, threshold: float) -> None:
        cfg = BreakerConfig(failure_rate_threshold=threshold, slow_call_rate_threshold=0.5,
                            slow_call_duration_s=1.0, window_kind=kind, window_size=size,
                            minimum_calls=minimum, wait_in_open_s=3.0, half_open_calls=probes)
        self.breaker, self.model = CircuitBreaker(cfg, clock=self.clock), BreakerModel(cfg)

    @precondition(lambda self: self.breaker is not None)
    @rule()
    def acquire(self) -> None:
        assert self.breaker is not None and self.model is not None
        got, want = self.breaker.try_acquire(), self.model.acquire(self.clock())
        assert (got is None) == (want is None)
        if got is not None and want is not None:
            self.pending.append((got, want))

    @precondition(lambda self: bool(self.pending))
    @rule(index=st.integers(0, 10), failed=st.booleans(), duration=st.sampled_from([0.1, 2.0]))
    def report(self, index: int, failed: bool, duration: float) -> None:
        assert self.breaker is not None and self.model is not None
        ticket, gen = self.pending.pop(index % len(self.pending))
        if failed:
            self.breaker.on_failure(ticket, duration_s=duration)
        else:
            self.breaker.on_success(ticket, duration_s=duration)
        self.model.report(gen, self.clock(), failed, duration)

    @rule(dt=st.sampled_from([0.5, 1.0, 3.0]))
    def tick(self, dt: float) -> None:
        self.clock.advance(dt)

    @invariant()
    def same_state(self) -> None:
        if self.breaker is not None and self.model is not None:
            assert self.breaker.state.value == self.model.state


TestBreakerMachine = BreakerMachine.TestCase
TestBreakerMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)

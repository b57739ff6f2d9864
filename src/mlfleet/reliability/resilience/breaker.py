"""Circuit breaker: closed → open → half-open → closed, as resilience4j documents it.

Semantics (resilience4j CircuitBreaker, https://resilience4j.readme.io/docs/circuitbreaker):

* **closed**: every call is permitted; each outcome (failed? slow?) enters a sliding
  window, count-based (the last ``window_size`` calls) or time-based (the calls of the
  last ``window_size`` seconds). Once the window holds at least ``minimum_calls``
  outcomes, the breaker opens when the failure rate ≥ ``failure_rate_threshold`` or the
  slow-call rate (calls longer than ``slow_call_duration_s``) ≥
  ``slow_call_rate_threshold``.
* **open**: calls are rejected without being tried, until ``wait_in_open_s`` has passed;
  the next permission request then moves the breaker to half-open (resilience4j's
  default, ``automaticTransitionFromOpenToHalfOpenEnabled = false``).
* **half-open**: exactly ``half_open_calls`` probe calls are permitted, the rest rejected.
  Once all probes have reported, the breaker closes if both rates over the probes are
  below their thresholds, else it reopens (and waits again).

Every transition clears the window. A call that was permitted must report exactly once
(:meth:`CircuitBreaker.on_success`, :meth:`~CircuitBreaker.on_failure`, or
:meth:`~CircuitBreaker.on_ignored` when it never ran); reports that arrive after the
breaker changed state are dropped, as resilience4j does for calls of an earlier state.
Thread-safe (one lock); the clock is injected.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from dataclasses import dataclass

from mlfleet.checks import fraction, one_of, positive, positive_int
from mlfleet.errors import InputError
from mlfleet.reliability.resilience.clock import MONOTONIC, Clock


class BreakerState(enum.Enum):
    """The three states; the value is the name Prometheus labels carry."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, kw_only=True)
class BreakerConfig:
    """Thresholds and timing of one breaker (defaults: resilience4j's, count window)."""

    failure_rate_threshold: float = 0.5
    """Open when failed / calls in the window reaches this fraction."""
    slow_call_rate_threshold: float = 1.0
    """Open when slow / calls in the window reaches this fraction (1.0: all slow)."""
    slow_call_duration_s: float = 60.0
    """A call that took longer than this counts as slow (whether it failed or not)."""
    window_kind: str = "count"
    """``count`` (the last ``window_size`` calls) or ``time`` (the last ``window_size`` s)."""
    window_size: float = 100
    """Calls (count window, a whole number) or seconds (time window)."""
    minimum_calls: int = 100
    """Rates are not evaluated before the window holds this many calls."""
    wait_in_open_s: float = 60.0
    """How long the breaker stays open before probing."""
    half_open_calls: int = 10
    """Probe calls permitted in half-open."""

    def __post_init__(self) -> None:
        fraction("failure_rate_threshold", self.failure_rate_threshold, open_low=True)
        fraction("slow_call_rate_threshold", self.slow_call_rate_threshold, open_low=True)
        positive("slow_call_duration_s", self.slow_call_duration_s, allow_inf=True)
        one_of("window_kind", self.window_kind, ("count", "time"))
        positive("window_size", self.window_size)
        if self.window_kind == "count" and not float(self.window_size).is_integer():
            raise InputError(f"window_size(={self.window_size}) must be a whole number of "
                             "calls for a count window")
        positive_int("minimum_calls", self.minimum_calls)
        positive("wait_in_open_s", self.wait_in_open_s)
        positive_int("half_open_calls", self.half_open_calls)


@dataclass(frozen=True, kw_only=True)
class BreakerSnapshot:
    """What a breaker holds at one instant (metrics, tests)."""

    state: BreakerState
    calls: int
    """Outcomes in the current window (half-open: probes reported)."""
    failure_rate: float
    slow_call_rate: float
    rejected_total: int
    """Calls refused since creation (open, or half-open with every probe taken)."""
    transitions_total: int


class _Window:
    """Outcomes ``(time_s, failed, slow)`` of the last N calls or the last T seconds."""

    def __init__(self, *, by_time: bool, size: float) -> None:
        self.by_time = by_time
        self.size = size
        self.outcomes: deque[tuple[float, bool, bool]] = deque()

    def add(self, now_s: float, *, failed: bool, slow: bool) -> None:
        self.outcomes.append((now_s, failed, slow))
        self.prune(now_s)

    def prune(self, now_s: float) -> None:
        if self.by_time:
            while self.outcomes and self.outcomes[0][0] <= now_s - self.size:
                self.outcomes.popleft()
        else:
            while len(self.outcomes) > self.size:
                self.outcomes.popleft()

    def rates(self) -> tuple[int, float, float]:
        """``(calls, failure rate, slow-call rate)``; rates are 0 with no calls."""
        n = len(self.outcomes)
        if n == 0:
            return 0, 0.0, 0.0
        return (n, sum(o[1] for o in self.outcomes) / n, sum(o[2] for o in self.outcomes) / n)


class CircuitBreaker:
    """One breaker guarding one dependency (a model, a replica)."""

    def __init__(self, config: BreakerConfig | None = None, *, clock: Clock = MONOTONIC) -> None:
        self.config = config or BreakerConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._window = self._closed_window()
        self._opened_at_s = 0.0
        self._probes_permitted = 0
        self._generation = 0
        self._rejected = 0
        self._transitions = 0

    @property
    def state(self) -> BreakerState:
        """The state now (open turns half-open only when a call asks for permission)."""
        with self._lock:
            return self._state

    def try_acquire(self) -> int | None:
        """Permission for one call: a ticket to report its outcome with, or ``None`` when
        the call must not be tried (open, or half-open with every probe handed out)."""
        with self._lock:
            now_s = self._clock()
            if self._state is BreakerState.OPEN:
                if now_s - self._opened_at_s < self.config.wait_in_open_s:
                    self._rejected += 1
                    return None
                self._to(BreakerState.HALF_OPEN, now_s)
            if self._state is BreakerState.HALF_OPEN:
                if self._probes_permitted >= self.config.half_open_calls:
                    self._rejected += 1
                    return None
                self._probes_permitted += 1
            return self._generation

    def on_success(self, ticket: int, *, duration_s: float) -> None:
        """The permitted call ``ticket`` succeeded after ``duration_s`` seconds."""
        self._record(ticket, failed=False, duration_s=duration_s)

    def on_failure(self, ticket: int, *, duration_s: float) -> None:
        """The permitted call ``ticket`` failed after ``duration_s`` seconds."""
        self._record(ticket, failed=True, duration_s=duration_s)

    def on_ignored(self, ticket: int) -> None:
        """The permitted call ``ticket`` was not made: its probe slot is handed back."""
        with self._lock:
            if ticket == self._generation and self._state is BreakerState.HALF_OPEN:
                self._probes_permitted -= 1

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            self._window.prune(self._clock())
            calls, failure_rate, slow_rate = self._window.rates()
            return BreakerSnapshot(state=self._state, calls=calls, failure_rate=failure_rate,
                                   slow_call_rate=slow_rate, rejected_total=self._rejected,
                                   transitions_total=self._transitions)

    def _closed_window(self) -> _Window:
        return _Window(by_time=self.config.window_kind == "time", size=self.config.window_size)

    def _record(self, ticket: int, *, failed: bool, duration_s: float) -> None:
        with self._lock:
            if ticket != self._generation:
                return  # a call of an earlier state: its outcome no longer counts
            now_s = self._clock()
            slow = duration_s > self.config.slow_call_duration_s
            self._window.add(now_s, failed=failed, slow=slow)
            calls, failure_rate, slow_rate = self._window.rates()
            tripped = (failure_rate >= self.config.failure_rate_threshold
                       or slow_rate >= self.config.slow_call_rate_threshold)
            if self._state is BreakerState.CLOSED:
                if calls >= self.config.minimum_calls and tripped:
                    self._to(BreakerState.OPEN, now_s)
            elif calls >= self.config.half_open_calls:
                self._to(BreakerState.OPEN if tripped else BreakerState.CLOSED, now_s)

    def _to(self, state: BreakerState, now_s: float) -> None:
        self._state = state
        # half-open keeps every probe: its window is the probes themselves
        self._window = (_Window(by_time=False, size=self.config.half_open_calls)
                        if state is BreakerState.HALF_OPEN else self._closed_window())
        self._generation += 1
        self._transitions += 1
        self._probes_permitted = 0
        if state is BreakerState.OPEN:
            self._opened_at_s = now_s

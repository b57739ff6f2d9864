"""Retry budget: retries are allowed only while, over a trailing window,
``retries <= ratio × requests + min_retries``, so retries can never multiply a failing
dependency's load by more than ``1 + ratio`` (a retry storm needs every layer to retry
every failure: ``(1 + attempts)^layers``).

This is the budget of Finagle's ``RetryBudget`` (a TTL window, ``percentCanRetry``,
``minRetriesPerSec``) and of Envoy's ``retry_budget`` (``budget_percent`` of the
*active* requests, at least ``min_retry_concurrency`` retries in flight;
https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/circuit_breaker.proto).
Envoy counts concurrency where this counts a window; by Little's law the two agree
when retries and requests see the same latency: ``ratio`` ↔ ``budget_percent / 100``.

gRPC's retry throttling (gRFC A6, https://github.com/grpc/proposal/blob/master/A6-client-retries.md)
is a token bucket instead (:mod:`.retry_throttle`): ``max_tokens`` to start, each failure
takes 1, each success adds ``token_ratio``, and retries stop while tokens ≤
``max_tokens / 2``. With a failure fraction ``f`` among attempts the bucket drains once
``f > token_ratio / (1 + token_ratio)``: a switch on the failure rate, where this budget
is a cap on the retry rate (docs/serving-resilience-primitives.md compares them; to
map one onto the other, ``ratio ≈ token_ratio`` bounds the same retries per success
while the failure rate is low). Thread-safe; the clock is injected.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from mlfleet.checks import non_negative, positive, positive_int
from mlfleet.reliability.resilience.clock import MONOTONIC, Clock


@dataclass(frozen=True, kw_only=True)
class RetryBudgetConfig:
    """The budget's size."""

    ratio: float = 0.2
    """Retries allowed per original request in the window (Envoy's default
    ``budget_percent`` is 20 %)."""
    min_retries: int = 3
    """Retries always allowed in the window, so a quiet client can still retry
    (Envoy's default ``min_retry_concurrency`` is 3)."""
    window_s: float = 10.0
    """The trailing window requests and retries are counted over (Finagle's TTL: 10 s)."""

    def __post_init__(self) -> None:
        non_negative("ratio", self.ratio)
        positive_int("min_retries", self.min_retries, minimum=0)
        positive("window_s", self.window_s)


@dataclass(frozen=True, kw_only=True)
class RetryBudgetSnapshot:
    """The budget's counts: in the window now, and since creation."""

    requests_in_window: int
    retries_in_window: int
    requests_total: int
    retries_granted_total: int
    retries_denied_total: int
    """Retries refused because the budget was exhausted."""


class RetryBudget:
    """Counts original requests and granted retries over a trailing window."""

    def __init__(self, config: RetryBudgetConfig | None = None, *,
                 clock: Clock = MONOTONIC) -> None:
        self.config = config or RetryBudgetConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._requests: deque[float] = deque()
        self._retries: deque[float] = deque()
        self._requests_total = self._granted = self._denied = 0

    def record_request(self) -> None:
        """Count one original request (not a retry)."""
        with self._lock:
            self._requests.append(self._clock())
            self._requests_total += 1

    def allowance(self) -> float:
        """Retries the window allows now: ``ratio × requests + min_retries``."""
        with self._lock:
            self._prune(self._clock())
            return self._allowance()

    def try_retry(self) -> bool:
        """Withdraw one retry: True if the budget allows it now (counted), else False
        (counted as denied: the budget is exhausted)."""
        with self._lock:
            now_s = self._clock()
            self._prune(now_s)
            if len(self._retries) + 1 > self._allowance():
                self._denied += 1
                return False
            self._retries.append(now_s)
            self._granted += 1
            return True

    def snapshot(self) -> RetryBudgetSnapshot:
        with self._lock:
            self._prune(self._clock())
            return RetryBudgetSnapshot(
                requests_in_window=len(self._requests), retries_in_window=len(self._retries),
                requests_total=self._requests_total, retries_granted_total=self._granted,
                retries_denied_total=self._denied)

    def _allowance(self) -> float:
        return self.config.ratio * len(self._requests) + self.config.min_retries

    def _prune(self, now_s: float) -> None:
        horizon_s = now_s - self.config.window_s
        for times in (self._requests, self._retries):
            while times and times[0] <= horizon_s:
                times.popleft()

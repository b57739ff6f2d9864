"""gRPC's retry throttling (gRFC A6, https://github.com/grpc/proposal/blob/master/A6-client-retries.md),
beside :mod:`.retry_budget` for comparison: a token bucket per client and server.

Tokens start at ``max_tokens``; each failed attempt takes 1 (not below 0), each success
adds ``token_ratio`` (not above ``max_tokens``); retries (and hedges) are allowed only
while tokens > ``max_tokens / 2``. With a steady failure fraction ``f`` among attempts
the drift per attempt is ``(1 - f) · token_ratio - f``, so the bucket drains, and
retries stop, once ``f`` exceeds :func:`switch_failure_rate` (gRPC's defaults give 9.1 %).
Near it the switch is blurred: steps of −1 against +0.1 make the count a noisy walk that
dips below half a small bucket even with a positive drift (measured in
tests/reliability/resilience/test_resilience_retry_throttle.py). It is a switch on the
failure rate; the retry budget is a cap on the retry rate.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from mlfleet.checks import fraction, positive


@dataclass(frozen=True, kw_only=True)
class RetryThrottleConfig:
    """gRPC's ``retryThrottling`` service-config fields."""

    max_tokens: float = 10.0
    """``maxTokens``: the bucket's size (gRPC allows (0, 1000])."""
    token_ratio: float = 0.1
    """``tokenRatio``: tokens a success adds (gRPC allows (0, 1])."""

    def __post_init__(self) -> None:
        positive("max_tokens", self.max_tokens)
        fraction("token_ratio", self.token_ratio, open_low=True)


def switch_failure_rate(token_ratio: float) -> float:
    """The failure fraction above which the bucket drains: ``r / (1 + r)``."""
    return token_ratio / (1.0 + token_ratio)


class RetryThrottle:
    """The token bucket; thread-safe."""

    def __init__(self, config: RetryThrottleConfig | None = None) -> None:
        self.config = config or RetryThrottleConfig()
        self.tokens = self.config.max_tokens
        self._lock = threading.Lock()

    def on_success(self) -> None:
        with self._lock:
            self.tokens = min(self.config.max_tokens, self.tokens + self.config.token_ratio)

    def on_failure(self) -> None:
        with self._lock:
            self.tokens = max(0.0, self.tokens - 1.0)

    def retry_allowed(self) -> bool:
        with self._lock:
            return self.tokens > self.config.max_tokens / 2

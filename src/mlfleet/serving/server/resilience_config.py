"""What the server's rank path does when its primary ranker cannot answer, and the fault
a test can inject into it: frozen specs, part of :class:`~.config.ServerConfig`."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlfleet.checks import fraction, non_negative, one_of, positive_int
from mlfleet.reliability.resilience.breaker import BreakerConfig

FAULT_MODES = ("none", "fail", "slow")
FAULT_TARGETS = ("primary", "models")


@dataclass(frozen=True, kw_only=True)
class FaultSpec:
    """An injected fault on the rank path (tests and chaos runs; loopback admin endpoint
    ``POST /admin/fault`` changes it at run time)."""

    mode: str = "none"
    """``none``, ``fail`` (the model raises: 500 without fallback) or ``slow``."""
    delay_s: float = 0.0
    """``slow``: extra seconds before the model runs."""
    fraction: float = 1.0
    """Share of rank requests the fault hits (drawn from a seeded generator)."""
    target: str = "primary"
    """``primary`` (the full ranker) or ``models`` (the cheaper fallback model too)."""
    seed: int = 0

    def __post_init__(self) -> None:
        one_of("mode", self.mode, FAULT_MODES)
        non_negative("delay_s", self.delay_s)
        fraction("fraction", self.fraction)
        one_of("target", self.target, FAULT_TARGETS)
        positive_int("seed", self.seed, minimum=0)


def _server_breaker() -> BreakerConfig:
    return BreakerConfig(failure_rate_threshold=0.5, slow_call_rate_threshold=0.8,
                         slow_call_duration_s=0.5, window_kind="count", window_size=20,
                         minimum_calls=10, wait_in_open_s=2.0, half_open_calls=3)


@dataclass(frozen=True, kw_only=True)
class RankFallbackConfig:
    """Breaker, bulkhead and fallback chain in front of the primary ranker."""

    enabled: bool = False
    """Off: the rank path answers as it always did (errors and 429s reach the client)."""
    breaker: BreakerConfig = field(default_factory=_server_breaker)
    """Guards the primary ranker (a short window: a server sees its own traffic only)."""
    max_concurrent: int = 64
    """Bulkhead: rank requests inside the primary path at once; beyond it the fallback."""
    cache_entries: int = 10_000
    """Primary replies kept for the cache tier, by (user, items)."""
    fault: FaultSpec = field(default_factory=FaultSpec)
    """The fault injected from the start (``none``: no fault)."""

    def __post_init__(self) -> None:
        positive_int("max_concurrent", self.max_concurrent)
        positive_int("cache_entries", self.cache_entries)

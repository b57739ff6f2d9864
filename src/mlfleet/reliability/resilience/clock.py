"""The clock every resilience primitive reads: injected, so tests and the simulator drive
time and nothing here sleeps or reads the wall clock behind the caller's back."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]
"""Returns the current time in seconds (any origin, monotonic)."""

MONOTONIC: Clock = time.monotonic
"""The default clock: ``time.monotonic`` (the same origin as asyncio's loop on Linux)."""


class ManualClock:
    """A clock that moves only when told to (tests, the discrete-event simulator)."""

    def __init__(self, start_s: float = 0.0) -> None:
        self.now_s = start_s

    def __call__(self) -> float:
        return self.now_s

    def advance(self, dt_s: float) -> None:
        """Move time forward by ``dt_s`` seconds (>= 0)."""
        assert dt_s >= 0, dt_s
        self.now_s += dt_s

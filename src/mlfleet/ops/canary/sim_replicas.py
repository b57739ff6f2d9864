"""Canary replicas with an injected regression, for the serving simulator.

* :func:`slow_replica` — service times × ``factor`` (a latency regression);
* :class:`ErroringReplica` — each request it serves fails with probability ``error_rate``
  after its service (an error regression: a 5xx after the work);
* :class:`FlappingReplica` — service times × (1 - ``amount``) in even periods of
  ``period_s`` and × (1 + ``amount``) in odd ones: the mean service time is the
  baseline's and the per-interval median sits in the middle, but the series spreads out
  (a variance-only, bimodal regression, e.g. a periodic stall such as a GC cycle).
"""

from __future__ import annotations

import math

import numpy as np

from mlfleet.serving.sim.host import ReplicaHost
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import STATUS

FAILED = STATUS.index("failed")


def slow_replica(factor: float) -> RequestLevelReplica:
    """A canary replica whose service takes ``factor`` times as long."""
    return RequestLevelReplica(group="canary", speed=1.0 / factor)


class ErroringReplica(RequestLevelReplica):
    """A canary replica failing each served request with probability ``error_rate``."""

    def __init__(self, *, error_rate: float, rng: np.random.Generator) -> None:
        super().__init__(group="canary")
        self.error_rate, self._rng = error_rate, rng

    def _on_attach(self, engine: ReplicaHost) -> None:
        super()._on_attach(engine)
        complete, status = engine.complete, engine.columns.status

        def complete_or_fail(rid: int, now_s: float) -> None:
            complete(rid, now_s)
            if self._rng.random() < self.error_rate:
                status[rid] = FAILED

        self._complete = complete_or_fail


class FlappingReplica(RequestLevelReplica):
    """A canary replica alternating fast and slow periods of ``period_s``."""

    def __init__(self, *, amount: float, period_s: float) -> None:
        super().__init__(group="canary")
        self.amount, self.period_s = amount, period_s

    @property
    def speed(self) -> float:
        """1 / (1 ∓ amount): fast in even periods, slow in odd ones (simulated time)."""
        odd = math.floor(self._sim.now_s / self.period_s) % 2
        return 1.0 / (1.0 + self.amount if odd else 1.0 - self.amount)

    @speed.setter
    def speed(self, value: float) -> None:  # the base class sets 1.0; the periods decide
        pass

"""Queue-depth admission: shed arrivals once the waiting queue reaches a limit.

Bounding the queue bounds the wait of every admitted request (about limit / service
rate) instead of letting an overload turn into unbounded latency for everyone; the
shed requests fail fast and can retry elsewhere.
"""

from __future__ import annotations

from mlfleet.checks import positive_int
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.policy import Request, SystemView


class QueueDepthAdmission:
    """Admits while fewer than the limit are queued; the queue then never exceeds it.

    Give exactly one of ``max_queued`` (over all replicas) or
    ``max_queued_per_replica`` (times the alive replicas at the arrival).
    """

    def __init__(self, *, max_queued: int | None = None,
                 max_queued_per_replica: int | None = None) -> None:
        if (max_queued is None) == (max_queued_per_replica is None):
            raise PolicyConfigError("queue_depth needs exactly one of max_queued and "
                                    f"max_queued_per_replica (got {max_queued!r}, "
                                    f"{max_queued_per_replica!r})")
        self.max_queued = None if max_queued is None else positive_int(
            "max_queued", max_queued, error=PolicyConfigError)
        self.max_queued_per_replica = None if max_queued_per_replica is None else \
            positive_int("max_queued_per_replica", max_queued_per_replica, error=PolicyConfigError)

    def limit(self, system: SystemView) -> int:
        """The queue limit at this arrival."""
        if self.max_queued is not None:
            return self.max_queued
        assert self.max_queued_per_replica is not None
        return self.max_queued_per_replica * system.alive_replicas

    def admit(self, request: Request, system: SystemView) -> bool:
        """Whether the queue has room for one more (queued_total + 1 <= limit)."""
        return system.queued_total < self.limit(system)

    def on_finish(self, request: Request, now_s: float) -> None:
        """Stateless: the engine reports the queue at each arrival."""

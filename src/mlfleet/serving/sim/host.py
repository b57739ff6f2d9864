"""What a replica may use of the engine it is attached to.

Replicas depend on this Protocol, not on :mod:`~.engine`, so the dependency runs one
way: the engine imports the replicas, never the reverse. Everything timed goes through
the kernel (:class:`mlfleet.sim.Simulation`): a replica schedules its own events under
the kind the engine registered for it, cancels the ones it supersedes, and completes a
step in place only when the kernel says it is the very next event
(:meth:`~mlfleet.sim.Simulation.advance_if_next`). Per-request state is read from and
written to :class:`~.columns.Columns` (see that module for who writes what).
"""

from __future__ import annotations

from typing import Protocol

from mlfleet.serving.sim.columns import Columns
from mlfleet.sim import Simulation


class ReplicaHost(Protocol):
    """The engine as its replicas see it."""

    @property
    def sim(self) -> Simulation:
        """The kernel: clock, events, counters."""
        ...

    @property
    def columns(self) -> Columns:
        """Per-request state of the run."""
        ...

    @property
    def next_arrival_s(self) -> float:
        """Time of the next arrival not yet delivered (+inf when none is left)."""
        ...

    @property
    def sole_replica(self) -> object | None:
        """The replica every arrival goes to while there is nothing to decide (one live
        replica, no policy), else None: that replica may plan around the next arrival."""
        ...

    def complete(self, rid: int, now_s: float) -> None:
        """``rid`` has its whole response at ``now_s``."""
        ...

    def reject(self, rid: int, now_s: float) -> None:
        """This replica can never serve ``rid`` (e.g. longer than its KV cache)."""
        ...

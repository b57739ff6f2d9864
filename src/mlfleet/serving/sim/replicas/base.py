"""The contract between a replica and the engine, and what every replica shares.

The engine calls :meth:`Replica.enqueue` when the load balancer routes a request here,
:meth:`Replica.on_timer` when a timed event this replica scheduled comes due, and
:meth:`Replica.evict` when the replica dies. A replica sees the engine only as a
:class:`~mlfleet.serving.sim.host.ReplicaHost`: it reads a request's sizes from the
run's :class:`~mlfleet.serving.sim.columns.Columns` (``columns.prompt[rid]`` ...),
writes its milestones there (``columns.start_s[rid]``, ``columns.first_token_s[rid]``)
and hands a finished request back with ``engine.complete(rid, now_s)``. Time belongs
to the kernel: a replica schedules its own events with ``sim.schedule(time_s,
self._timer)`` (``_timer`` is the event kind the engine registered for this replica,
dispatched to :meth:`on_timer`) and cancels those it supersedes with
``sim.cancel(seq)``, so every event it receives is live.

A replica is also the :class:`~mlfleet.serving.policy.ReplicaView` the
policies read: ``index``, ``alive``, ``weight``, ``outstanding``, ``queued``,
``has_session``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from mlfleet.errors import InputError
from mlfleet.serving.sim.columns import Columns
from mlfleet.serving.sim.host import ReplicaHost
from mlfleet.sim import Simulation


class Replica(ABC):
    """One model replica (one or more accelerators serving one copy of the model)."""

    kind = "replica"
    """Name of the batching policy (``static``, ``paged`` ...)."""
    engine: ReplicaHost
    """The engine this replica is attached to (set by :meth:`attach`)."""
    columns: Columns
    """The run's per-request columns (set by :meth:`attach`)."""
    _sim: Simulation
    _timer: int
    """Kind of this replica's own events (set by :meth:`attach`)."""

    def __init__(self, *, group: str = "stable", weight: float = 1.0) -> None:
        if not group or not isinstance(group, str):
            raise InputError(f"group(={group!r}) must be a non-empty string")
        if not (isinstance(weight, int | float) and weight > 0):
            raise InputError(f"weight(={weight!r}) must be a number > 0")
        self.index = -1
        """Position in the engine's fleet (set when attached)."""
        self.group = group
        """Traffic group (``stable``, ``canary`` ...): the unit of a traffic split."""
        self.weight = float(weight)
        """Relative capacity, read by weighted load balancers."""
        self.alive = True
        self.busy_s = 0.0
        """Time this replica spent serving (server-seconds for multi-server replicas)."""
        self.capacity = 1
        """Servers in parallel (utilisation = busy_s / (capacity · horizon))."""
        self.sessions: set[int] = set()
        """Sessions whose state (KV cache) this replica holds; lost when it dies."""

    def attach(self, engine: ReplicaHost, index: int, timer_kind: int) -> None:
        """Called once by the engine: this replica is ``index`` of its fleet, and its
        events of kind ``timer_kind`` are dispatched to :meth:`on_timer`."""
        if getattr(self, "engine", engine) is not engine:
            raise InputError(f"replica {self.kind!r} is already attached to another engine")
        self.engine, self.index, self.columns = engine, index, engine.columns
        self._sim, self._timer = engine.sim, timer_kind
        self._on_attach(engine)

    def _on_attach(self, engine: ReplicaHost) -> None:
        """Hook for replicas that check the workload (e.g. request lengths)."""
        return None

    def has_session(self, session: int) -> bool:
        return session in self.sessions

    @property
    @abstractmethod
    def outstanding(self) -> int:
        """Requests queued plus in service here."""

    @property
    @abstractmethod
    def queued(self) -> int:
        """Requests waiting here, not yet in service."""

    @abstractmethod
    def enqueue(self, rid: int, now_s: float) -> None:
        """Request ``rid`` was routed here at ``now_s``."""

    @abstractmethod
    def on_timer(self, now_s: float, seq: int, payload: object) -> None:
        """An event this replica scheduled (``seq``, with ``payload``) came due; the
        kernel's handler signature. Cancelled events never come."""

    @abstractmethod
    def evict(self, now_s: float) -> list[int]:
        """The replica died: drop every request (returned, in arrival order) and all state."""

    def on_drained(self, now_s: float) -> None:
        """No more arrivals will come (static batching flushes its partial batch)."""
        return None

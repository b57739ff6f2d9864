"""Priority classes with guards against priority inversion and starvation.

Two pieces, for the two places priority acts (class 0 is the highest):

* :class:`PriorityAdmission` — admission by reserved capacity. Of ``max_outstanding``
  slots, each class owns ``guaranteed_per_class`` that no other class may use (so low
  priority always progresses, however much high-priority traffic arrives); the rest is
  a shared pool of which class c may fill only ``(1 − c·reserve_fraction)``, so a
  flood of low-priority work always leaves headroom for high priority (high is never
  blocked behind low).
* :class:`AgingPriorityQueue` — the order a replica serves its queue (a
  :class:`~mlfleet.serving.policy.QueueDiscipline`: give each request-level,
  static or dynamic batching replica its own, ``discipline=``). A request's effective
  priority is p − waited/aging_s: it rises one class per ``aging_s`` of waiting, so a
  low-priority request waits at most about Δp·aging_s (plus the backlog ahead of it)
  before it outranks fresh high-priority arrivals — bounded, never starved — while
  high priority, arriving fresh, overtakes any low request that has waited less than
  that.
  Since p − (now − a)/A orders like p + a/A, a heap keyed on the time the request
  started waiting suffices (no re-keying as time passes). Without aging it is strict
  non-preemptive priority, whose mean waits in M/G/1 are Cobham's (1954):
  W_k = W₀ / ((1 − σ_{k−1})(1 − σ_k)), σ_k the load of classes 0..k, W₀ = Σλᵢ E[Sᵢ²]/2.
"""

from __future__ import annotations

import heapq  # the waiting requests, by priority key: not an event queue (see mlfleet.sim)
import itertools
import math

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.policy import Request, SystemView


class AgingPriorityQueue:
    """Priority queue with aging; ``aging_s=None`` gives strict priority (can starve).

    One instance per replica (it holds that replica's waiting requests).
    """

    def __init__(self, *, aging_s: float | None = 1.0) -> None:
        self.aging_s = None if aging_s is None else positive("aging_s", aging_s,
                                                             error=PolicyConfigError)
        """Seconds of waiting that raise a request by one priority class."""
        self._heap: list[tuple[float, float, int, int]] = []
        """(effective-priority key, waiting since, push order, request id)."""
        self._seq = itertools.count()

    def push(self, rid: int, priority: int, now_s: float) -> None:
        """Request ``rid`` of class ``priority`` starts waiting at ``now_s``."""
        heapq.heappush(self._heap, (self.key(priority, now_s), now_s, next(self._seq), rid))

    def pop(self) -> int:
        """Remove and return the request with the best effective priority (oldest on ties)."""
        return heapq.heappop(self._heap)[-1]

    def __len__(self) -> int:
        return len(self._heap)

    def drain(self) -> list[int]:
        """Remove and return every waiting request."""
        rids = [entry[-1] for entry in self._heap]
        self._heap.clear()
        return rids

    def key(self, priority: int, since_s: float) -> float:
        """p + since/aging_s: smaller is served first (p alone without aging)."""
        if self.aging_s is None:
            return float(priority)
        return priority + since_s / self.aging_s


class PriorityAdmission:
    """Reserved-capacity admission over ``n_classes`` priority classes (see module doc).

    Priorities >= ``n_classes`` count as the lowest class, negative ones as class 0.
    """

    def __init__(self, *, max_outstanding: int, n_classes: int = 2,
                 guaranteed_per_class: int = 1, reserve_fraction: float = 0.2) -> None:
        self.max_outstanding = positive_int("max_outstanding", max_outstanding,
                                            error=PolicyConfigError)
        self.n_classes = positive_int("n_classes", n_classes, error=PolicyConfigError)
        self.guaranteed_per_class = positive_int("guaranteed_per_class", guaranteed_per_class,
                                                 minimum=0, error=PolicyConfigError)
        self.reserve_fraction = fraction("reserve_fraction", reserve_fraction,
                                         error=PolicyConfigError)
        if n_classes * guaranteed_per_class > max_outstanding:
            raise PolicyConfigError(
                f"n_classes·guaranteed_per_class(={n_classes}·{guaranteed_per_class}) must be "
                f"<= max_outstanding(={max_outstanding})")
        self.shared = max_outstanding - n_classes * guaranteed_per_class
        """Slots not owned by any class."""
        self._own = [0] * n_classes
        self._shared_used = 0
        self._pool: dict[int, tuple[int, bool]] = {}
        """Admitted request id -> (class, took a shared slot)."""

    def ceiling(self, cls: int) -> int:
        """Shared slots class ``cls`` may fill: ⌊shared·(1 − cls·reserve_fraction)⌋, >= 0."""
        return max(0, math.floor(self.shared * (1.0 - cls * self.reserve_fraction) + 1e-9))

    def class_of(self, request: Request) -> int:
        """The request's class, clamped into [0, n_classes)."""
        return min(max(request.priority, 0), self.n_classes - 1)

    def admit(self, request: Request, system: SystemView) -> bool:
        """Admit into the class's own slots first, then the shared pool up to its ceiling."""
        cls = self.class_of(request)
        if self._own[cls] < self.guaranteed_per_class:
            self._own[cls] += 1
            self._pool[request.id] = (cls, False)
        elif self._shared_used < self.ceiling(cls):
            self._shared_used += 1
            self._pool[request.id] = (cls, True)
        else:
            return False
        assert self.in_flight() <= self.max_outstanding
        return True

    def on_finish(self, request: Request, now_s: float) -> None:
        """Release the slot the request held (ignores requests this policy did not admit)."""
        held = self._pool.pop(request.id, None)
        if held is None:
            return
        cls, shared = held
        if shared:
            self._shared_used -= 1
        else:
            self._own[cls] -= 1
        assert self._shared_used >= 0 and self._own[cls] >= 0

    def in_flight(self) -> int:
        """Requests admitted and not yet finished."""
        return self._shared_used + sum(self._own)

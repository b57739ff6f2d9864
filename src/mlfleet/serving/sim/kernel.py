"""The event queue of the serving simulator: a heap of ``(time_s, seq, kind, payload)``.

As in SimPy, the tie-breaking sequence number is owned by the queue instance (an
``itertools.count``), so events at the same time pop in the order they were pushed and
two simulations never share state. ``kind`` is a small int the engine dispatches on
(:data:`TIMER` for a replica's own timed event, :data:`CALL` for a scheduled
callback); ``payload`` is the object the event is for. A pushed event cannot be
removed: an owner that reschedules keeps the ``seq`` of its live event and ignores
popped events with another ``seq`` (lazy deletion).

Hot paths (the engine loop, replicas) use :attr:`EventQueue.heap` and
:attr:`EventQueue.counter` directly — ``heappush(q.heap, (t, next(q.counter), kind,
payload))`` is :meth:`EventQueue.push` without the Python call; everything else goes
through the methods.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

TIMER = 0
"""A replica's own timed event (iteration boundary, service completion, batch timeout)."""
CALL = 1
"""A callback scheduled with :meth:`EventQueue.push` (failures, deployments, user hooks)."""

Event = tuple[float, int, int, Any]
"""``(time_s, seq, kind, payload)``."""


class EventQueue:
    """A min-heap of events ordered by time, then by push order."""

    __slots__ = ("heap", "counter")

    def __init__(self) -> None:
        self.heap: list[Event] = []
        """The heap itself (read-only outside this class, except for pushes)."""
        self.counter = itertools.count()
        """Source of ``seq`` numbers: 0, 1, 2, ... for this queue only."""

    def push(self, time_s: float, kind: int, payload: Any) -> int:
        """Schedule an event; returns its ``seq`` (unique, increasing)."""
        seq = next(self.counter)
        heapq.heappush(self.heap, (time_s, seq, kind, payload))
        return seq

    def pop(self) -> Event:
        """Remove and return the earliest event (IndexError when empty)."""
        return heapq.heappop(self.heap)

    def next_time_s(self) -> float:
        """Time of the earliest event, or +inf when none is pending."""
        return self.heap[0][0] if self.heap else float("inf")

    def __len__(self) -> int:
        return len(self.heap)

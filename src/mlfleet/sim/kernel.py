"""The discrete-event kernel every chapter's simulator runs on.

A :class:`Simulation` alone owns the clock, the heap of ``(time_s, seq, kind,
payload)`` events and the sequence counter. As in SimPy, ``seq`` is counted per
instance, so events at the same time pop in the order they were scheduled and two
simulations never share state. Components never touch the heap or the clock: they
call :meth:`Simulation.schedule` / :meth:`Simulation.cancel`, and a handler may return
follow-up events, ``(at_s, kind, payload)`` tuples, which the kernel schedules (as
Vidur's event handlers do).

``kind`` is a small int naming what an event is (:meth:`Simulation.kind` registers a
name and returns its int); a run dispatches each popped event to ``handlers[kind]``
with ``(time_s, seq, payload)``. Cancelling is lazy: a cancelled ``seq`` stays on the
heap and is dropped when it comes due, never dispatched and never counted.

Exogenous events that are already sorted (request arrivals read from an array) need
not go through the heap at all: a :class:`Source` offers its next time, and
:meth:`Simulation.run` merges it with the heap, the source first on ties (an arrival
at the instant a service ends is seen by that service's completion handler).

Randomness: :meth:`Simulation.stream` gives each named component its own generator,
derived from the run's seed and the component's *name* (``SeedSequence(seed,
spawn_key=(crc32(name),))``), so adding, removing or reordering components never
shifts another component's draws, and a run is reproducible from its seed.

Invariants (``tests/sim/test_kernel.py``): time never goes back; equal-time events pop
in schedule order; a run is reproducible from its seed.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from heapq import heappop, heappush
from typing import Any, Protocol

import numpy as np

from mlfleet.errors import InputError

Event = tuple[float, int, int, Any]
"""``(time_s, seq, kind, payload)``."""
FollowUp = tuple[float, int, Any]
"""``(at_s, kind, payload)``: an event a handler asks the kernel to schedule."""
Handler = Callable[[float, int, Any], Iterable[FollowUp] | None]
"""``handler(time_s, seq, payload)``; returns follow-up events, or None."""
Handlers = Mapping[int, Handler] | Sequence[Handler]
"""The handler of each kind: a mapping, or a sequence indexed by kind (cheaper to index
once per event, for a client that registers a handler for every kind)."""


class SimulationError(InputError):
    """A component asked the kernel for something impossible (an event in the past)."""


class Source(Protocol):
    """Sorted exogenous events (e.g. arrivals) that bypass the heap.

    ``next_s`` is the time of the next one (+inf when exhausted); :meth:`fire` handles
    it at ``now_s`` and advances ``next_s`` (which must not decrease).
    """

    next_s: float

    def fire(self, now_s: float) -> Iterable[FollowUp] | None:
        """Handle the event due at ``now_s``; may return follow-up events."""


class Simulation:
    """Clock, event heap, sequence counter, per-kind counters and seeded streams."""

    __slots__ = ("_heap", "_seq", "_now_s", "_cancelled", "_kinds", "_counts", "_seed",
                 "_source", "_until_s")

    def __init__(self, *, seed: int = 0, start_s: float = 0.0) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InputError(f"seed(={seed!r}) must be an integer >= 0")
        if not math.isfinite(start_s):
            raise InputError(f"start_s(={start_s!r}) must be a finite time")
        self._heap: list[Event] = []
        self._seq = 0
        self._now_s = float(start_s)
        self._cancelled: set[int] = set()
        self._kinds: list[str] = []
        self._counts: list[int] = []
        self._seed = seed
        self._source: Source | None = None
        """The source of the run in progress (None between runs)."""
        self._until_s = -math.inf
        """Where the run in progress stops (-inf between runs: no event is "next")."""

    # ---------------------------------------------------------------- clock and kinds

    @property
    def now_s(self) -> float:
        """The simulated time (s): the time of the event being handled."""
        return self._now_s

    @property
    def seed(self) -> int:
        """The run's seed, root of every :meth:`stream`."""
        return self._seed

    def kind(self, name: str) -> int:
        """The int of event kind ``name``, registered on first use (0, 1, 2, ...)."""
        try:
            return self._kinds.index(name)
        except ValueError:
            self._kinds.append(name)
            self._counts.append(0)
            return len(self._kinds) - 1

    # ---------------------------------------------------------------- scheduling

    def schedule(self, at_s: float, kind: int, payload: Any = None) -> int:
        """Schedule an event at ``at_s`` (>= now); returns its ``seq``.

        Raises :class:`SimulationError` for a time in the past or not a number.
        """
        if not at_s >= self._now_s:  # also catches NaN
            raise SimulationError(f"at_s(={at_s!r}) must be >= now ({self._now_s!r} s)")
        seq = self._seq
        self._seq = seq + 1
        heappush(self._heap, (at_s, seq, kind, payload))
        return seq

    def schedule_in(self, delay_s: float, kind: int, payload: Any = None) -> int:
        """Schedule an event ``delay_s`` (>= 0) from now; returns its ``seq``."""
        if not delay_s >= 0:
            raise SimulationError(f"delay_s(={delay_s!r}) must be >= 0")
        return self.schedule(self._now_s + delay_s, kind, payload)

    def cancel(self, seq: int) -> None:
        """Drop the pending event ``seq``: it is never dispatched (no-op if it was)."""
        if 0 <= seq < self._seq:
            cancelled = self._cancelled
            cancelled.add(seq)
            if len(cancelled) > len(self._heap):  # some left the heap already: forget them
                cancelled.intersection_update([event[1] for event in self._heap])

    def pending(self) -> int:
        """Events on the heap not cancelled."""
        return sum(1 for e in self._heap if e[1] not in self._cancelled)

    def pending_of(self, kind: int) -> list[tuple[int, Any]]:
        """``(seq, payload)`` of each live event of ``kind``, in schedule order: what a
        component has pending without keeping its own ledger (O(events on the heap))."""
        cancelled = self._cancelled
        return sorted((e[1], e[3]) for e in self._heap if e[2] == kind and e[1] not in cancelled)

    def peek_s(self) -> float:
        """Time of the next live event, or +inf when none is pending."""
        heap, cancelled = self._heap, self._cancelled
        while heap and cancelled and heap[0][1] in cancelled:
            cancelled.discard(heappop(heap)[1])
        return heap[0][0] if heap else math.inf

    def pop(self) -> Event | None:
        """Remove the next live event, move the clock to it and count it; None if none."""
        heap, cancelled = self._heap, self._cancelled
        while heap:
            event = heappop(heap)
            if cancelled and event[1] in cancelled:
                cancelled.discard(event[1])
                continue
            assert event[0] >= self._now_s, "time went back"
            self._now_s = event[0]
            self._counts[event[2]] += 1
            return event
        return None

    def advance(self, to_s: float) -> None:
        """Move the clock to ``to_s`` for an event handled outside the heap (a
        :class:`Source`'s); raises :class:`SimulationError` if that is in the past or
        after the next pending event."""
        if not self._now_s <= to_s <= self.peek_s():
            raise SimulationError(f"to_s(={to_s!r}) must lie between now ({self._now_s!r} s)"
                                  f" and the next event ({self.peek_s()!r} s)")
        self._now_s = to_s

    def advance_if_next(self, to_s: float) -> bool:
        """Move the clock to ``to_s`` and return True if an event there would be the
        very next one of the run in progress: strictly before the heap's head and the
        source's next event (which win ties) and not after the run's ``until_s``.

        A component whose next event is that one handles it in place instead of
        scheduling it (one heap push and pop saved); otherwise it schedules it. The
        head is compared as it lies, a cancelled one included, which can only make
        the answer False, as is every answer between runs. ``to_s`` must be >= now.
        """
        heap, source = self._heap, self._source
        if to_s > self._until_s or (heap and not to_s < heap[0][0]) \
                or (source is not None and not to_s < source.next_s):
            return False
        if not to_s >= self._now_s:
            raise SimulationError(f"to_s(={to_s!r}) must be >= now ({self._now_s!r} s)")
        self._now_s = to_s
        return True

    def tally(self, kind: int, events: int) -> None:
        """Count ``events`` (>= 0) of ``kind`` that an acceleration handled outside the
        heap (a specialised loop that gives the same results), so :meth:`counts` is the
        same whichever path ran."""
        if events < 0:
            raise SimulationError(f"events(={events!r}) must be >= 0")
        self._counts[kind] += events

    # ---------------------------------------------------------------- running

    def run(self, handlers: Handlers, *, until_s: float = math.inf,
            source: Source | None = None, source_kind: int | None = None) -> float:
        """Dispatch events in time order until none is left or the next is after
        ``until_s``; returns the clock.

        ``source`` (with ``source_kind``, the kind its events are counted under) is
        merged with the heap, first on ties. Follow-up events a handler returns are
        scheduled in the order returned.
        """
        if source is not None and source_kind is None:
            source_kind = self.kind("source")
        self._source, self._until_s = source, until_s
        try:
            self._dispatch(handlers, until_s, source, source_kind)
        finally:
            self._source, self._until_s = None, -math.inf
        return self._now_s

    def _dispatch(self, handlers: Handlers, until_s: float,
                  source: Source | None, source_kind: int | None) -> None:
        """The loop of :meth:`run`. Times cannot go back here: :meth:`schedule` refuses
        the past and a source's ``next_s`` never decreases (checked per source event)."""
        heap, cancelled, counts = self._heap, self._cancelled, self._counts
        schedule, inf = self.schedule, math.inf
        if source is None:
            source = _NO_SOURCE
        source_kind = -1 if source_kind is None else source_kind
        fire = source.fire
        while True:
            t_src = source.next_s
            if heap and heap[0][0] < t_src:
                t, seq, kind, payload = heappop(heap)
                if t > until_s:
                    heappush(heap, (t, seq, kind, payload))  # same seq: same place
                    return
                if cancelled and seq in cancelled:
                    cancelled.discard(seq)
                    continue
                self._now_s = t
                counts[kind] += 1
                follow = handlers[kind](t, seq, payload)
            elif t_src < inf:
                if t_src > until_s:
                    return
                if t_src < self._now_s:
                    raise SimulationError(f"a source's next_s(={t_src!r}) went back in time"
                                          f" (now {self._now_s!r} s)")
                self._now_s = t_src
                counts[source_kind] += 1
                follow = fire(t_src)
            else:
                return
            if follow is not None:
                for at_s, kind, payload in follow:
                    schedule(at_s, kind, payload)

    # ---------------------------------------------------------------- statistics, streams

    def counts(self) -> dict[str, int]:
        """Events dispatched so far, per kind name (cancelled ones are not counted)."""
        return dict(zip(self._kinds, self._counts, strict=True))

    @property
    def events(self) -> int:
        """Events dispatched so far, all kinds."""
        return sum(self._counts)

    def stream(self, name: str) -> np.random.Generator:
        """A generator for component ``name``, independent of every other name's and
        fixed by (seed, name) alone: adding a component shifts no one's draws."""
        return np.random.default_rng(stream_seed(self._seed, name))


class _NoSource:
    """The source of a run without one: nothing, ever."""

    next_s = math.inf

    def fire(self, now_s: float) -> None:
        raise AssertionError("an empty source never fires")


_NO_SOURCE = _NoSource()


def stream_seed(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of component ``name`` in a run seeded ``seed``."""
    if not name:
        raise InputError("stream name(='') must be a non-empty string")
    return np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))

"""The event queue: time order, FIFO ties, per-instance sequence numbers."""

from __future__ import annotations

import math

from mlfleet.serving.sim.kernel import CALL, TIMER, EventQueue


def test_events_pop_in_time_order_and_ties_in_push_order() -> None:
    q = EventQueue()
    q.push(2.0, TIMER, "b")
    q.push(1.0, TIMER, "a")
    q.push(2.0, CALL, "c")
    assert [q.pop()[3] for _ in range(3)] == ["a", "b", "c"]
    assert q.next_time_s() == math.inf and len(q) == 0


def test_two_queues_do_not_share_sequence_numbers() -> None:
    a, b = EventQueue(), EventQueue()
    assert [a.push(0.0, TIMER, None) for _ in range(3)] == [0, 1, 2]
    assert b.push(0.0, TIMER, None) == 0

"""The kernel's invariants: time never goes back, equal-time events pop in schedule
order, cancelled events are never dispatched, runs reproduce from their seed, and a
component's stream does not depend on which other components exist."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.sim import FollowUp, Simulation, SimulationError

times = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1,
                 max_size=200)


@given(times)
def test_time_never_goes_back_and_ties_pop_in_schedule_order(ts: list[float]) -> None:
    sim = Simulation()
    tick = sim.kind("tick")
    seqs = [sim.schedule(t, tick, i) for i, t in enumerate(ts)]
    assert seqs == list(range(len(ts)))
    popped = []
    while (event := sim.pop()) is not None:
        popped.append(event)
        assert sim.now_s == event[0]
    assert [e[0] for e in popped] == sorted(ts)
    # stable: equal times keep the order they were scheduled in
    assert [e[3] for e in popped] == sorted(range(len(ts)), key=lambda i: ts[i])
    assert sim.counts() == {"tick": len(ts)} and sim.events == len(ts)


@given(times, st.data())
def test_cancelled_events_are_never_dispatched(ts: list[float], data: st.DataObject) -> None:
    sim = Simulation()
    tick = sim.kind("tick")
    seqs = [sim.schedule(t, tick, i) for i, t in enumerate(ts)]
    dropped = set(data.draw(st.sets(st.sampled_from(seqs))))
    for seq in dropped:
        sim.cancel(seq)
    seen: list[int] = []
    sim.run({tick: lambda t, seq, payload: seen.append(seq)})
    assert sorted(seen) == sorted(set(seqs) - dropped)
    assert sim.events == len(seqs) - len(dropped) and sim.pending() == 0


def test_handlers_follow_ups_are_scheduled_and_the_source_goes_first_on_ties() -> None:
    sim = Simulation()
    done = sim.kind("done")
    log: list[tuple[str, float]] = []

    class Arrivals:
        def __init__(self) -> None:
            self.times = [1.0, 2.0, 3.0]
            self.next_s = self.times[0]

        def fire(self, now_s: float) -> list[FollowUp]:
            log.append(("arrive", now_s))
            self.times.pop(0)
            self.next_s = self.times[0] if self.times else math.inf
            return [(now_s + 1.0, done, None)]  # each takes 1 s: ends with the next arrival

    def finish(t: float, seq: int, payload: Any) -> None:
        log.append(("done", t))

    end = sim.run({done: finish}, source=Arrivals(), source_kind=sim.kind("arrive"))
    assert log == [("arrive", 1.0), ("arrive", 2.0), ("done", 2.0), ("arrive", 3.0),
                   ("done", 3.0), ("done", 4.0)]
    assert end == 4.0 and sim.counts() == {"done": 3, "arrive": 3}


def test_run_stops_before_until_and_resumes() -> None:
    sim = Simulation()
    tick = sim.kind("tick")
    for t in (1.0, 2.0, 3.0):
        sim.schedule(t, tick)
    seen: list[float] = []
    handlers = {tick: lambda t, seq, p: seen.append(t)}
    assert sim.run(handlers, until_s=2.5) == 2.0 and seen == [1.0, 2.0]
    sim.run(handlers)
    assert seen == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_an_event_in_the_past_is_refused(bad: float) -> None:
    sim = Simulation()
    with pytest.raises(SimulationError, match="at_s"):
        sim.schedule(bad, sim.kind("tick"))
    with pytest.raises(SimulationError, match="delay_s"):
        sim.schedule_in(bad, sim.kind("tick"))


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_a_bad_seed_is_refused(seed: Any) -> None:
    with pytest.raises(SimulationError.__mro__[1], match="seed"):
        Simulation(seed=seed)


def test_streams_depend_on_seed_and_name_only() -> None:
    a = Simulation(seed=3)
    b = Simulation(seed=3)
    b.stream("failures")  # another component exists in b: a's draws must not shift
    assert np.array_equal(a.stream("arrivals").random(5), b.stream("arrivals").random(5))
    assert not np.array_equal(a.stream("arrivals").random(5), a.stream("service").random(5))
    assert not np.array_equal(Simulation(seed=4).stream("arrivals").random(5),
                              a.stream("arrivals").random(5))


@settings(max_examples=25)
@given(st.integers(min_value=0, max_value=2**32))
def test_a_run_is_reproducible_from_its_seed(seed: int) -> None:
    def run() -> list[tuple[float, int]]:
        sim = Simulation(seed=seed)
        rng = sim.stream("jobs")
        job = sim.kind("job")
        out: list[tuple[float, int]] = []

        def handle(t: float, seq: int, n: int) -> list[FollowUp] | None:
            out.append((t, seq))
            return [(t + float(rng.exponential()), job, n - 1)] if n else None

        sim.schedule(0.0, job, 50)
        sim.run({job: handle})
        return out

    assert run() == run()


def test_advance_if_next_moves_the_clock_only_for_the_very_next_event() -> None:
    """A component completes an event in place only when nothing can come first: not an
    event on the heap or of the source (which win ties), and not past ``until_s``."""
    sim = Simulation()
    step, other = sim.kind("step"), sim.kind("other")
    sim.schedule(5.0, other)
    answers: list[tuple[float, bool, float]] = []

    class Once:
        next_s = 3.0

        def fire(self, now_s: float) -> None:
            self.next_s = 8.0
            for t in (4.0, 5.0, 4.5):  # 5.0 ties the heap's head: the head wins
                answers.append((t, sim.advance_if_next(t), sim.now_s))

    def on_other(t: float, seq: int, payload: Any) -> None:
        answers.append((8.0, sim.advance_if_next(8.0), sim.now_s))  # ties the source
        answers.append((7.0, sim.advance_if_next(7.0), sim.now_s))

    sim.run({other: on_other, step: lambda t, seq, p: None}, source=Once(),
            source_kind=sim.kind("arrival"), until_s=7.5)
    assert answers == [(4.0, True, 4.0), (5.0, False, 4.0), (4.5, True, 4.5),
                       (8.0, False, 5.0), (7.0, True, 7.0)]
    assert not sim.advance_if_next(9.0) and sim.now_s == 7.0  # no run in progress

    def back(t: float, seq: int, payload: Any) -> None:
        sim.advance_if_next(1.0)

    sim.schedule(9.0, step)
    with pytest.raises(SimulationError, match="to_s"):
        sim.run({step: back})  # the past


def test_tally_adds_events_handled_outside_the_heap() -> None:
    sim = Simulation()
    done = sim.kind("done")
    sim.schedule(1.0, done)
    sim.run({done: lambda t, seq, p: None})
    sim.tally(done, 4)
    assert sim.counts() == {"done": 5} and sim.events == 5
    with pytest.raises(SimulationError, match="events"):
        sim.tally(done, -1)


def test_cancelling_a_dispatched_event_is_a_no_op_and_is_forgotten() -> None:
    sim = Simulation()
    tick = sim.kind("tick")
    first = sim.schedule(1.0, tick)
    sim.run({tick: lambda t, seq, p: None})
    later = sim.schedule(2.0, tick)
    sim.cancel(first)  # already dispatched: nothing to drop, nothing kept
    seen: list[int] = []
    sim.run({tick: lambda t, seq, p: seen.append(seq)})
    assert seen == [later] and sim.events == 2


def test_pending_of_lists_the_live_events_of_a_kind_in_schedule_order() -> None:
    sim = Simulation()
    mine, other = sim.kind("mine"), sim.kind("other")
    seqs = [sim.schedule(t, mine, f"p{t:g}") for t in (3.0, 1.0, 2.0)]
    sim.schedule(1.5, other)
    sim.cancel(seqs[2])
    assert sim.pending_of(mine) == [(seqs[0], "p3"), (seqs[1], "p1")]
    sim.run({mine: lambda t, seq, payload: None, other: lambda t, seq, payload: None},
            until_s=1.0)
    assert sim.pending_of(mine) == [(seqs[0], "p3")]
    assert sim.pending_of(other) == [(3, None)]

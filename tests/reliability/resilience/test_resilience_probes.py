"""Probes: the cold-start table as a hypothesis state machine, and concurrent readers."""

from __future__ import annotations

import threading

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mlfleet.reliability.resilience.probes import Phase, Probes, ProbeTransitionError

TABLE = {  # phase -> (live, ready), the module docstring's table
    "starting": (True, False), "warming": (True, False), "ready": (True, True),
    "draining": (True, False), "failed": (False, False),
}
NEXT = {("starting", "loaded"): "warming", ("warming", "warmed"): "ready",
        ("ready", "drain"): "draining"}


def test_cold_start_is_live_but_not_ready() -> None:
    probes = Probes()
    assert probes.liveness().ok and probes.readiness().reasons == ("starting",)
    probes.loaded()
    assert probes.readiness().reasons == ("warming",)
    probes.warmed()
    assert probes.readiness().ok


def test_a_failing_dependency_check_only_removes_readiness() -> None:
    healthy = [True]
    probes = Probes({"feature_store": lambda: healthy[0]})
    probes.loaded()
    probes.warmed()
    healthy[0] = False
    assert probes.liveness().ok
    assert probes.readiness().reasons == ("check feature_store failing",)


def test_illegal_transition_is_refused() -> None:
    with pytest.raises(ProbeTransitionError, match="warmed\\(\\) in phase 'starting'"):
        Probes().warmed()


def test_readers_see_only_table_states_while_it_moves() -> None:
    probes, seen, stop = Probes(), set(), threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add((probes.liveness().ok, probes.readiness().ok))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for step in (probes.loaded, probes.warmed, probes.drain):
        step()
    probes.fail("worker died")
    stop.set()
    for t in threads:
        t.join()
    assert seen <= set(TABLE.values())


class ProbesMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.probes = Probes()
        self.phase = "starting"

    @rule(event=st.sampled_from(["loaded", "warmed", "drain"]))
    def step(self, event: str) -> None:
        target = NEXT.get((self.phase, event))
        if target is None:
            with pytest.raises(ProbeTransitionError):
                getattr(self.probes, event)()
        else:
            getattr(self.probes, event)()
            self.phase = target

    @rule()
    def fail(self) -> None:
        self.probes.fail("boom")
        self.phase = "failed"

    @invariant()
    def answers_match_the_table(self) -> None:
        assert self.probes.phase is Phase(self.phase)
        assert (self.probes.liveness().ok, self.probes.readiness().ok) == TABLE[self.phase]


TestProbesMachine = ProbesMachine.TestCase
TestProbesMachine.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)

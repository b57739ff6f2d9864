"""The request-level lane: the general loop's records, bit for bit, and only where it fits.

Every run is made twice, the second with ``Engine._request_lane = False`` (the general
loop); the records, per-replica busy time, the clock, the progress reports and the
engine's generator afterwards must agree exactly. Coarse streams (times on a 0.25 s
grid) make arrivals and completions coincide, so tie-breaking is compared too.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_builders import mm_stream

from mlfleet.serving.admission.priority import AgingPriorityQueue
from mlfleet.serving.admission.registry import make_admission
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.sim.arrivals import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import SimResult
from mlfleet.serving.sim.steptime import BatchServiceTime

BLIND = [("random", {}), ("round_robin", {}), ("least_outstanding", {}),
         ("power_of_two", {}), ("power_of_two", {"d": 1})]
"""Every balancer that offers a router for a fleet of more than one replica."""
COLUMNS = ("arrival_s", "start_s", "first_token_s", "finish_s", "replica", "status",
           "attempts", "preemptions", "shadow_of", "replica_busy_s", "replica_capacity")


def stream_for(*, n: int, seed: int, load: float, servers: int, coarse: bool = False,
               classes: int = 1) -> RequestStream:
    """Poisson arrivals at ``load`` × ``servers`` with unit-mean exponential demands;
    ``coarse``: times on a 0.25 s grid; ``classes``: priorities drawn from range(classes)."""
    stream = mm_stream(n, seed=seed, rate_per_s=load * servers)
    changes: dict[str, Any] = {}
    if coarse:
        changes["arrival_s"] = np.floor(stream.arrival_s * 4.0) / 4.0
        changes["service_s"] = np.ceil(stream.service_s * 4.0) / 4.0
    if classes > 1:
        changes["priority"] = np.random.default_rng(seed + 1).integers(0, classes, n)
    return dataclasses.replace(stream, **changes) if changes else stream


def build(stream: RequestStream, *, replicas: int = 3, servers: int = 1,
          lb: tuple[str, dict[str, Any]] = ("random", {}), seed: int = 0,
          discipline: Callable[[], Any] | None = None, speeds: tuple[float, ...] = (1.0,),
          **engine_kw: Any) -> Engine:
    """An engine over ``replicas`` request-level replicas (speeds cycled)."""
    fleet = [RequestLevelReplica(servers=servers, speed=speeds[k % len(speeds)],
                                 discipline=None if discipline is None else discipline())
             for k in range(replicas)]
    name, params = lb
    return Engine(requests=stream, replicas=fleet, rng=np.random.default_rng(seed),
                  lb=make_load_balancer(name, **params), **engine_kw)


def run_both(make: Callable[[], Engine]) -> tuple[Engine, SimResult, Engine, SimResult]:
    """(lane engine, its records, general engine, its records); the first must take the
    lane."""
    lane, general = make(), make()
    general._request_lane = False
    assert lane._takes_request_lane(math.inf)
    return lane, lane.run(), general, general.run()


def assert_same(lane: Engine, a: SimResult, general: Engine, b: SimResult) -> None:
    for column in COLUMNS:
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)
    assert lane.now_s == general.now_s
    assert lane.sim.counts() == general.sim.counts()  # the lane tallies what it handled
    assert [r.outstanding for r in lane.replicas] == [r.outstanding for r in general.replicas]
    assert lane.rng.random() == general.rng.random()  # the generator is left alike


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), replicas=st.integers(1, 6), servers=st.integers(1, 3),
       load=st.floats(0.2, 1.2), policy=st.sampled_from(BLIND), coarse=st.booleans(),
       speeds=st.sampled_from([(1.0,), (1.0, 0.5), (2.0, 1.0, 0.75)]))
def test_the_lane_makes_the_general_loop_s_records(seed: int, replicas: int, servers: int,
                                                   load: float, policy: tuple[str, dict[str, Any]],
                                                   coarse: bool,
                                                   speeds: tuple[float, ...]) -> None:
    stream = stream_for(n=600, seed=seed, load=load, servers=replicas * servers,
                        coarse=coarse)
    assert_same(*run_both(lambda: build(stream, replicas=replicas, servers=servers,
                                        lb=policy, seed=seed, speeds=speeds)))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), replicas=st.integers(1, 4), servers=st.integers(1, 2),
       load=st.floats(0.5, 1.2), policy=st.sampled_from(BLIND), coarse=st.booleans(),
       aging_s=st.sampled_from([None, 0.5, 4.0]))
def test_the_lane_serves_a_queue_discipline_in_its_order(seed: int, replicas: int,
                                                         servers: int, load: float,
                                                         policy: tuple[str, dict[str, Any]],
                                                         coarse: bool,
                                                         aging_s: float | None) -> None:
    stream = stream_for(n=600, seed=seed, load=load, servers=replicas * servers,
                        coarse=coarse, classes=3)
    lane, a, general, b = run_both(lambda: build(
        stream, replicas=replicas, servers=servers, lb=policy, seed=seed,
        discipline=lambda: AgingPriorityQueue(aging_s=aging_s)))
    assert_same(lane, a, general, b)


@pytest.mark.parametrize("replicas", [1, 2])  # one FIFO replica: the minimal recursion
def test_the_lane_reports_progress_as_the_general_loop_does(replicas: int) -> None:
    n = 2 * 0x10000  # a multiple of the report interval: the last arrival is reported too
    stream = stream_for(n=n, seed=5, load=0.8, servers=2)
    calls: dict[bool, list[tuple[int, int]]] = {True: [], False: []}

    def make(lane: bool) -> Engine:
        eng = build(stream, replicas=replicas,
                    progress=lambda i, total: calls[lane].append((i, total)))
        eng._request_lane = lane
        return eng

    lane, general = make(True), make(False)
    assert_same(lane, lane.run(), general, general.run())
    assert calls[True] == calls[False] == [(0x10000, n), (n, n), (n, n)]


def test_a_second_run_after_the_lane_changes_nothing() -> None:
    eng = build(stream_for(n=300, seed=2, load=0.9, servers=3))
    first = eng.run()
    assert not eng._takes_request_lane(math.inf)
    second = eng.run()
    for column in COLUMNS:
        np.testing.assert_array_equal(getattr(first, column), getattr(second, column))
    assert first.done.all()


def _with_sessions(stream: RequestStream) -> RequestStream:
    return dataclasses.replace(stream, session=np.arange(len(stream)) % 5)


class SlowerReplica(RequestLevelReplica):
    """A subclass: it may behave differently, so the lane leaves it alone."""


FALLBACKS: dict[str, Callable[[RequestStream], Engine]] = {
    "admission": lambda s: build(s, admission=make_admission("token_bucket", rate_per_s=5.0,
                                                              burst=10)),
    "split": lambda s: _then(build(s), lambda e: e.set_split({"stable": 1.0})),
    "mirror": lambda s: _then(build(s), lambda e: e.set_mirror("stable", fraction=0.5)),
    "callback": lambda s: _then(build(s), lambda e: e.call_at(10.0, lambda _: None)),
    "kill": lambda s: _then(build(s), lambda e: e.kill_replica(0, at_s=10.0)),
    "late replica": lambda s: _then(build(s), lambda e: e.add_replica(RequestLevelReplica(),
                                                                      at_s=10.0)),
    "sessions": lambda s: build(_with_sessions(s)),
    "no demands": lambda s: Engine(
        requests=dataclasses.replace(s, service_s=np.full(len(s), np.nan)),
        replicas=[RequestLevelReplica(service=BatchServiceTime(pieces=((0.5, 0.0),)))],
        rng=np.random.default_rng(0)),
    "subclass": lambda s: Engine(requests=s, replicas=[SlowerReplica(), RequestLevelReplica()],
                                 rng=np.random.default_rng(0)),
    "no router": lambda s: build(s, lb=("power_of_two", {"d": 3}), replicas=4),
    "request-aware balancer": lambda s: build(s, lb=("consistent_hash", {})),
}
"""Configurations the lane cannot honour, each built on a stream."""


def _then(eng: Engine, change: Callable[[Engine], object]) -> Engine:
    change(eng)
    return eng


@pytest.mark.parametrize("case", FALLBACKS)
def test_what_the_lane_cannot_honour_takes_the_general_loop(case: str) -> None:
    stream = stream_for(n=400, seed=3, load=0.7, servers=3)
    eng = FALLBACKS[case](stream)
    assert not eng._takes_request_lane(math.inf)
    forced = FALLBACKS[case](stream)
    forced._request_lane = False
    a, b = eng.run(), forced.run()
    for column in COLUMNS:
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)


def test_a_run_that_stops_early_takes_the_general_loop() -> None:
    eng = build(stream_for(n=400, seed=3, load=0.7, servers=3))
    assert eng._takes_request_lane(math.inf)
    assert not eng._takes_request_lane(50.0)
    eng.run(until_s=50.0)
    assert not eng._takes_request_lane(math.inf)

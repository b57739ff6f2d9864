"""Replica failures: requests fail over, sessions are lost or migrated, failures at a rate."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from session_workload import conversations

from mlfleet.errors import InputError
from mlfleet.serving.deploy.failures import FailureInjector, ReplicaFailure, exponential_failures
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import STATUS


def mm_fleet(n_replicas: int, *, n: int = 2000, rate_per_s: float = 3.0) -> Engine:
    stream = make_requests(n, arrivals=PoissonArrivals(rate_per_s=rate_per_s),
                           rng=np.random.default_rng(0), service=Exponential(mean_s=1.0))
    return Engine(requests=stream, replicas=[RequestLevelReplica() for _ in range(n_replicas)],
                  rng=np.random.default_rng(1), lb=make_load_balancer("power_of_two"))


def test_queued_and_in_flight_requests_fail_over_and_complete() -> None:
    """4 replicas at ρ = 0.9; replica 0 dies at 100 s (holding 7 requests, observed)."""
    engine = mm_fleet(4, rate_per_s=3.6)
    held: list[int] = []
    engine.call_at(100.0, lambda eng: held.append(eng.replicas[0].outstanding))  # runs first
    FailureInjector([ReplicaFailure(replica=0, at_s=100.0)]).apply(engine)
    res = engine.run()
    moved = res.attempts > 1
    assert held[0] >= 2 and moved.sum() == held[0]
    assert res.done.all()  # nothing lost: every orphan was served elsewhere
    assert np.all(res.replica[moved] != 0)
    assert np.all(res.arrival_s[moved] <= 100.0)
    assert np.all(res.replica[res.arrival_s > 100.0] != 0)


def test_with_every_replica_dead_requests_fail() -> None:
    engine = mm_fleet(2, n=400)
    FailureInjector([ReplicaFailure(replica=i, at_s=50.0) for i in range(2)]).apply(engine)
    res = engine.run()
    failed = res.status == STATUS.index("failed")
    assert failed.sum() > 0 and np.all(res.finish_s[failed] >= 50.0)


def test_a_repaired_replica_serves_again() -> None:
    engine = mm_fleet(3)
    FailureInjector([ReplicaFailure(replica=1, at_s=100.0, repair_s=50.0)]).apply(engine)
    res = engine.run()
    on_1 = res.replica == 1
    assert not np.any(on_1 & (res.start_s > 100.0) & (res.start_s < 150.0))
    assert np.any(on_1 & (res.start_s > 150.0))


def test_exponential_failures_have_the_right_rate_and_are_deterministic() -> None:
    """With repair, a replica fails at rate 1/(mtbf + repair): 100 replicas over 10 MTBF
    with repair = MTBF/10 give ~909 failures (observed 918)."""
    def failures_of(seed: int) -> list[ReplicaFailure]:
        return exponential_failures(rng=np.random.default_rng(seed), replicas=range(100),
                                    mtbf_s=100.0, horizon_s=1000.0, repair_s=10.0)

    failures = failures_of(5)
    assert failures == failures_of(5)
    assert abs(len(failures) - 100 * 1000 / 110) < 4 * np.sqrt(909)
    assert [f.at_s for f in failures] == sorted(f.at_s for f in failures)
    once = exponential_failures(replicas=range(1000), mtbf_s=100.0, horizon_s=100.0,
                                rng=np.random.default_rng(5))
    assert abs(len(once) / 1000 - (1 - np.exp(-1))) < 0.05  # P(T < mtbf) = 1 − 1/e


def sessions_after_failure(state: str) -> tuple[float, FailureInjector, np.ndarray, np.ndarray]:
    """Kill replica 0 of 6 mid-conversation under KV-aware routing; (share of the dead
    replica's sessions whose next turn went to the replica holding their state, ...)."""
    stream = conversations(sessions=120, turns=6, gap_s=20.0, service_s=0.5,
                           rng=np.random.default_rng(1))
    engine = Engine(requests=stream, replicas=[RequestLevelReplica() for _ in range(6)],
                    rng=np.random.default_rng(2), lb=make_load_balancer("kv_aware"))
    injector = FailureInjector([ReplicaFailure(replica=0, at_s=50.0)], session_state=state)
    injector.apply(engine)
    res = engine.run()
    assert res.done.all()
    homed = {int(s) for s in stream.session[(res.replica == 0) & (res.finish_s < 50.0)]}
    kept = []
    for s in homed:
        nxt = np.flatnonzero((stream.session == s) & (res.arrival_s > 50.0))[0]
        kept.append(injector.migrated.get(s, -1) == res.replica[nxt])
    return float(np.mean(kept)), injector, res.replica, stream.session


def test_session_state_is_lost_or_migrated_as_configured() -> None:
    """Observed: migrated — every one of the dead replica's sessions resumed on the
    replica its state moved to; lost — none had state anywhere (re-prefill)."""
    kept, injector, _, _ = sessions_after_failure("migrated")
    assert kept == 1.0 and len(injector.migrated) > 10
    kept_lost, lost, _, _ = sessions_after_failure("lost")
    assert kept_lost == 0.0 and lost.migrated == {}


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda: ReplicaFailure(replica=0, at_s=-1.0), "at_s(=-1) must be a finite number >= 0"),
    (lambda: exponential_failures(replicas=[0], mtbf_s=0.0, horizon_s=1.0,
                                  rng=np.random.default_rng(0)), "mtbf_s(=0)"),
    (lambda: FailureInjector([], session_state="kept"),
     "session_state(='kept') is unknown; known: lost, migrated"),
])
def test_bad_configuration(call: Callable[[], object], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert fragment in str(info.value)

"""Request coalescing: N duplicates in flight cost one backend request, and each is
answered ('coalesced') when the one in flight is."""

from __future__ import annotations

from typing import Any

import numpy as np
from policy_fakes import request, system
from sim_builders import LINEAR_STEP

from mlfleet.serving.admission.chain import AllOf
from mlfleet.serving.admission.coalescing import CoalescingAdmission
from mlfleet.serving.admission.queue_depth import QueueDepthAdmission
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.sim.arrivals import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import STATUS

COALESCED = STATUS.index("coalesced")


def duplicates(n: int, **overrides: Any) -> RequestStream:
    """``n`` requests of key 99 spread over the first 0.5 s, 1 s of service each."""
    base: dict[str, Any] = dict(arrival_s=np.linspace(0.0, 0.5, n),
                                prompt_tokens=np.ones(n, np.int64),
                                output_tokens=np.ones(n, np.int64), service_s=np.full(n, 1.0),
                                key=np.full(n, 99))
    return RequestStream(**(base | overrides))


def test_duplicates_in_flight_attach_to_the_leader() -> None:
    policy = CoalescingAdmission()
    admitted = [policy.admit(request(i, key=7), system()) for i in range(10)]
    assert admitted == [True] + [False] * 9
    assert policy.leader_of == {i: 0 for i in range(1, 10)}
    policy.on_finish(request(0, key=7, status="done"), 2.5)
    assert policy.follower_finish_s() == {i: 2.5 for i in range(1, 10)}
    assert policy.admit(request(10, key=7), system(now_s=3.0))  # a new flight, a new leader


def test_requests_without_key_or_with_other_keys_are_independent() -> None:
    policy = CoalescingAdmission()
    assert all(policy.admit(request(i), system()) for i in range(5))  # key -1
    assert all(policy.admit(request(10 + k, key=k), system()) for k in range(5))
    assert policy.in_flight_keys() == 5


def test_in_the_simulator_a_burst_of_duplicates_is_one_backend_request() -> None:
    n = 50
    stream = duplicates(n)
    policy = CoalescingAdmission()
    engine = Engine(requests=stream, replicas=[RequestLevelReplica() for _ in range(4)],
                    rng=np.random.default_rng(0), lb=make_load_balancer("round_robin"),
                    admission=policy)
    res = engine.run()
    assert (res.replica >= 0).sum() == 1  # one backend request
    assert res.finish_s[0] == 1.0
    assert policy.follower_finish_s() == {i: 1.0 for i in range(1, n)}
    assert np.all(res.status[1:] == COALESCED) and np.all(res.finish_s[1:] == 1.0)
    np.testing.assert_allclose(res.e2e_s, 1.0 - stream.arrival_s)  # what each user saw
    summary = res.summary()
    assert (summary.completed, summary.coalesced, summary.rejected) == (n, n - 1, 0)
    assert summary.e2e.mean_s == float(np.mean(1.0 - stream.arrival_s))


def test_an_llm_follower_gets_its_first_token_with_the_leader_or_on_arrival() -> None:
    """Tokens the leader streamed before a follower arrived reach it at once."""
    n = 20
    stream = duplicates(n, arrival_s=np.linspace(0.0, 0.2, n),
                        prompt_tokens=np.full(n, 400), output_tokens=np.full(n, 30),
                        service_s=np.full(n, np.nan))
    res = Engine(requests=stream, replicas=[RequestLevelReplica(step_time=LINEAR_STEP)],
                 rng=np.random.default_rng(0), admission=CoalescingAdmission()).run()
    lead_first = res.first_token_s[0]
    assert 0.0 < lead_first < 0.2  # some followers arrive before it, some after
    np.testing.assert_array_equal(res.first_token_s[1:],
                                  np.maximum(lead_first, stream.arrival_s[1:]))
    assert np.all(res.finish_s[1:] == res.finish_s[0])
    assert np.all(res.ttft_s >= 0)


def test_followers_share_a_failed_leader_s_fate() -> None:
    n = 10
    engine = Engine(requests=duplicates(n), replicas=[RequestLevelReplica() for _ in range(2)],
                    rng=np.random.default_rng(0), lb=make_load_balancer("round_robin"),
                    admission=CoalescingAdmission())
    for i in range(2):
        engine.kill_replica(i, at_s=0.75)
    res = engine.run()
    assert np.all(res.status == STATUS.index("failed")) and np.all(res.finish_s == 0.75)
    assert res.summary().completed == 0


def test_in_a_chain_a_follower_is_coalesced_and_a_shed_request_rejected() -> None:
    """Coalescing first, then a queue limit of one: duplicates of the key in flight are
    coalesced; another key arriving while one request waits is shed."""
    n = 6
    stream = duplicates(n, arrival_s=np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),
                        key=np.array([1, 1, 2, 3, 1, 2]))
    admission = AllOf([CoalescingAdmission(), QueueDepthAdmission(max_queued=1)])
    res = Engine(requests=stream, replicas=[RequestLevelReplica()],
                 rng=np.random.default_rng(0), admission=admission).run()
    status = [STATUS[s] for s in res.status]
    assert status == ["done", "coalesced", "done", "rejected", "coalesced", "coalesced"]
    assert res.finish_s[1] == res.finish_s[4] == res.finish_s[0] == 1.0
    assert res.finish_s[5] == res.finish_s[2] == 2.0


def test_in_the_simulator_no_two_requests_with_one_key_are_in_flight_together() -> None:
    """Poisson traffic over 20 hot keys: per key, dispatched requests never overlap, and
    every follower arrived while its leader was in flight. Each key sees λ = 0.5/s and a
    flight lasts E[S] = 1 s, so λE[S] = 0.5 followers ride on each backend request:
    1/3 of requests coalesce. Observed: 1,305 of 4,000 (32.6 %)."""
    rng = np.random.default_rng(0)
    n = 4000
    stream = RequestStream(arrival_s=np.cumsum(rng.exponential(0.1, n)),
                           prompt_tokens=np.ones(n, np.int64), output_tokens=np.ones(n, np.int64),
                           service_s=rng.exponential(1.0, n), key=rng.integers(0, 20, n))
    policy = CoalescingAdmission()
    engine = Engine(requests=stream, replicas=[RequestLevelReplica() for _ in range(16)],
                    rng=np.random.default_rng(1), lb=make_load_balancer("least_outstanding"),
                    admission=policy)
    res = engine.run()
    backend = res.replica >= 0
    assert backend.sum() + len(policy.leader_of) == n
    for k in range(20):
        ids = np.flatnonzero(backend & (stream.key == k))
        assert np.all(res.arrival_s[ids[1:]] >= res.finish_s[ids[:-1]])  # disjoint flights
    for follower, leader in policy.leader_of.items():
        assert res.arrival_s[leader] <= res.arrival_s[follower] <= res.finish_s[leader]
        assert res.status[follower] == COALESCED
        assert res.finish_s[follower] == res.finish_s[leader]
    assert res.summary().coalesced == len(policy.leader_of)
    assert res.summary().completed == n
    assert abs(len(policy.leader_of) / n - 1 / 3) < 0.03

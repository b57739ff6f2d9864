"""Queue-depth admission: the waiting queue never exceeds the limit, even in overload."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from policy_fakes import request, system

from mlfleet.errors import InputError
from mlfleet.serving.admission.queue_depth import QueueDepthAdmission
from mlfleet.serving.admission.registry import make_admission
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.policy import Admission
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica


def test_admits_exactly_while_the_queue_is_below_the_limit() -> None:
    policy = QueueDepthAdmission(max_queued=3)
    assert [policy.admit(request(), system(queued_total=q)) for q in range(5)] == \
        [True, True, True, False, False]


def test_per_replica_limit_scales_with_alive_replicas() -> None:
    policy = QueueDepthAdmission(max_queued_per_replica=2)
    assert policy.admit(request(), system(queued_total=5, alive_replicas=3))
    assert not policy.admit(request(), system(queued_total=6, alive_replicas=3))


def overload_run(admission: Admission | None) -> tuple[int, float]:
    """4 replicas at ρ = 1.5 for 4000 requests; (max queue sampled every 50 ms, shed share)."""
    stream = make_requests(4000, arrivals=PoissonArrivals(rate_per_s=6.0),
                           rng=np.random.default_rng(0), service=Exponential(mean_s=1.0))
    engine = Engine(requests=stream, replicas=[RequestLevelReplica() for _ in range(4)],
                    rng=np.random.default_rng(1), lb=make_load_balancer("least_outstanding"), admission=admission)
    peak = [0]

    def sample(eng: Engine) -> None:
        peak[0] = max(peak[0], sum(r.queued for r in eng.replicas))
        if eng.next_arrival_s < float("inf"):
            eng.call_at(eng.now_s + 0.05, sample)

    engine.call_at(0.0, sample)
    res = engine.run()
    return peak[0], float(np.mean(res.status == 2))  # STATUS[2] == "rejected"


def test_in_the_simulator_the_queue_stays_within_the_limit_under_overload() -> None:
    """Observed: unlimited, the queue peaks at 1345; limited to 20, at 20, shedding 34 %."""
    unlimited, shed_none = overload_run(None)
    limited, shed = overload_run(make_admission("queue_depth", max_queued=20))
    assert shed_none == 0.0 and unlimited > 500
    assert limited <= 20
    assert shed == pytest.approx(1 / 3, abs=0.05)  # the excess of ρ = 1.5 over capacity


@pytest.mark.parametrize(("params", "fragment"), [
    ({}, "exactly one of max_queued and max_queued_per_replica"),
    ({"max_queued": 0}, "max_queued(=0) must be an integer >= 1"),
    ({"max_queued": 2.5}, "max_queued(=2.5) must be an integer >= 1"),
    ({"max_queued": 1, "max_queued_per_replica": 1}, "exactly one"),
])
def test_bad_configuration(params: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        QueueDepthAdmission(**params)
    assert fragment in str(info.value)


def test_the_server_bounded_queue_is_this_policy() -> None:
    """The real server's default admission asks a QueueDepthAdmission at each path's
    queue capacity: admitted while fewer than the capacity wait, then 429."""
    from mlfleet.serving.server.admission import LoadView, SharedPolicy, make_policy

    server = make_policy(None)
    assert isinstance(server, SharedPolicy) and server.policy is None

    def admitted(queued: int, capacity: int) -> bool:
        return bool(server.decide(LoadView(queued=queued, running=1, queue_capacity=capacity,
                                           served_per_s=100.0)).admitted)

    assert [admitted(q, 16) for q in (0, 15, 16, 17)] == [True, True, False, False]
    assert admitted(16, 64) and not admitted(64, 64)  # the generate path's own capacity
    assert isinstance(server.bound(16), QueueDepthAdmission)
    assert server.bound(16).max_queued == 16 and server.bound(64).max_queued == 64

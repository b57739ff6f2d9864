"""The engine's router fast path: the same choices as the balancer's ``choose``.

A balancer that ignores the request offers a router (``policy.RoutesBlind``); the
engine routes through it while every alive replica is a candidate, and through
``choose`` otherwise. Wrapping the balancer so it offers only ``choose`` forces the
slow path; the two runs must agree request by request, across kills, revivals, added
replicas, a split that comes and goes (``choose`` and the router alternate) and a
callback that draws from the engine's generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from sim_builders import mm_stream

from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.policy import LoadBalancer, ReplicaView, Request, RoutesBlind
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.dynamic import DynamicBatchReplica
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import STATUS, SimResult
from mlfleet.serving.sim.steptime import BatchServiceTime

POLICIES = [("random", {}), ("round_robin", {}), ("least_outstanding", {}),
            ("power_of_two", {}), ("power_of_two", {"d": 1}), ("power_of_two", {"d": 3})]


class ChooseOnly:
    """A balancer that offers only ``choose`` (delegating), so the engine never routes
    through the wrapped one's router."""

    def __init__(self, inner: LoadBalancer) -> None:
        self.inner = inner

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        return self.inner.choose(request, replicas, rng)

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        self.inner.on_replicas_changed(replicas)


def eventful_run(lb: LoadBalancer, *, seed: int) -> tuple[SimResult, list[float], float]:
    """Five replicas at ρ ≈ 0.9 through failures, an added replica, a split that comes
    and goes, and a callback drawing from the engine's generator. (records, the
    callback's draws, the generator's next double after the run)."""
    stream = mm_stream(4000, seed=seed, rate_per_s=4.5)
    eng = Engine(requests=stream, replicas=[RequestLevelReplica() for _ in range(5)],
                 rng=np.random.default_rng(seed), lb=lb)
    drawn: list[float] = []
    eng.kill_replica(1, at_s=100.0)
    eng.revive_replica(1, at_s=150.0)
    eng.add_replica(RequestLevelReplica(), at_s=200.0)
    eng.set_split({"stable": 1.0}, at_s=300.0)  # every replica stays a candidate
    eng.set_split({}, at_s=400.0)
    eng.call_at(500.0, lambda e: drawn.append(float(e.rng.random())))
    eng.kill_replica(3, at_s=600.0)
    res = eng.run()
    return res, drawn, float(eng.rng.random())


@pytest.mark.parametrize(("name", "params"), POLICIES)
@pytest.mark.parametrize("seed", range(3))
def test_the_router_makes_the_choices_choose_makes(name: str, params: dict[str, Any],
                                                    seed: int) -> None:
    fast = eventful_run(make_load_balancer(name, **params), seed=seed)
    slow = eventful_run(ChooseOnly(make_load_balancer(name, **params)), seed=seed)
    for column in ("replica", "start_s", "finish_s", "attempts", "status"):
        np.testing.assert_array_equal(getattr(fast[0], column), getattr(slow[0], column),
                                      err_msg=column)
    assert fast[1:] == slow[1:]
    assert (fast[0].attempts > 1).any()  # the kills did move requests


@pytest.mark.parametrize(("name", "params"), POLICIES[:5])
def test_request_blind_balancers_offer_a_router_for_a_healthy_fleet(name: str,
                                                                    params: dict[str, Any]) -> None:
    lb = make_load_balancer(name, **params)
    assert isinstance(lb, RoutesBlind)
    assert lb.router([RequestLevelReplica() for _ in range(4)], np.random.default_rng(0)) \
        is not None


def test_request_aware_balancers_offer_no_router() -> None:
    for name in ("consistent_hash", "kv_aware", "weighted"):
        assert not isinstance(make_load_balancer(name), RoutesBlind)


@pytest.mark.parametrize("make", [
    lambda: RequestLevelReplica(servers=2),
    lambda: DynamicBatchReplica(max_batch=4, max_queue_delay_s=0.2,
                                service=BatchServiceTime(pieces=((0.5, 0.1),))),
])
def test_outstanding_counts_what_was_dispatched_and_not_yet_finished(make: object) -> None:
    """The load every balancer reads: at any instant, a replica's ``outstanding`` is
    the number of unfinished requests last dispatched to it."""
    stream = mm_stream(3000, rate_per_s=5.0)
    eng = Engine(requests=stream, replicas=[make() for _ in range(3)],  # type: ignore[operator]
                 rng=np.random.default_rng(0), lb=make_load_balancer("least_outstanding"))
    eng.kill_replica(0, at_s=120.0)
    eng.revive_replica(0, at_s=180.0)
    mismatches: list[tuple[float, int, int, int]] = []

    def check(e: Engine) -> None:
        snap = e.snapshot()
        pending = snap.status == STATUS.index("pending")
        for r in e.replicas:
            held = int(np.sum(pending & (snap.replica == r.index)))
            if r.outstanding != held:
                mismatches.append((e.now_s, r.index, r.outstanding, held))

    for t in np.linspace(10.0, 590.0, 40):
        eng.call_at(float(t), check)
    eng.run()
    assert mismatches == []

"""Routes drawn ahead (``serving/sim/routes_ahead.py``) are the router's, call by call."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_builders import mm_stream

from mlfleet.serving.lb.base import RoutesAhead
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.lb.round_robin import Rotation
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import SimResult
from mlfleet.serving.sim.uniforms import BlockUniforms

AHEAD = ["random", "round_robin"]
"""The balancers that offer routes ahead (their routers read no load)."""
NEVER = 1e300
"""An ``until_s`` after every event: the run ends as with none, routed one call at a time."""


def engine(policy: str, *, n: int, seed: int, replicas: int = 4,
           progress: Callable[[int, int], None] | None = None) -> Engine:
    stream = mm_stream(n, seed=seed, rate_per_s=0.9 * replicas)
    return Engine(requests=stream, replicas=[RequestLevelReplica() for _ in range(replicas)],
                  rng=np.random.default_rng(seed), lb=make_load_balancer(policy),
                  progress=progress)


@pytest.mark.parametrize("policy", AHEAD)
def test_the_balancers_that_read_no_load_offer_routes_ahead(policy: str) -> None:
    assert isinstance(make_load_balancer(policy), RoutesAhead)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), policy=st.sampled_from(AHEAD),
       replicas=st.integers(2, 6), lane=st.booleans())
def test_a_run_routed_ahead_makes_the_records_of_one_routed_call_by_call(
        seed: int, policy: str, replicas: int, lane: bool) -> None:
    ahead, by_call = (engine(policy, n=500, seed=seed, replicas=replicas) for _ in range(2))
    ahead._request_lane = by_call._request_lane = lane
    a, b = ahead.run(), by_call.run(until_s=NEVER)
    for column in ("start_s", "finish_s", "replica", "replica_busy_s"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)
    assert ahead.rng.random() == by_call.rng.random()  # the generator is left alike


def run_reporting(policy: str, *, n: int, lane: bool,
                  routed_ahead: bool) -> tuple[list[float], SimResult]:
    """A run whose progress callback draws from the engine's generator at each report:
    (the numbers it drew, the records)."""
    drawn: list[float] = []
    holder: list[Engine] = []
    eng = engine(policy, n=n, seed=3,
                 progress=lambda i, total: drawn.append(holder[0].rng.random()))
    holder.append(eng)
    eng._request_lane = lane
    return drawn, eng.run() if routed_ahead else eng.run(until_s=NEVER)


@pytest.mark.parametrize("policy", AHEAD)
@pytest.mark.parametrize("lane", [True, False])
def test_a_progress_report_finds_the_generator_where_routing_call_by_call_leaves_it(
        policy: str, lane: bool) -> None:
    """Stretches end where progress is reported: a callback drawing from the engine's
    generator there sees the numbers it would have seen without routes ahead."""
    n = 2 * 0x10000 + 123
    seen_ahead, ahead = run_reporting(policy, n=n, lane=lane, routed_ahead=True)
    seen_by_call, by_call = run_reporting(policy, n=n, lane=lane, routed_ahead=False)
    assert seen_ahead == seen_by_call and len(seen_ahead) >= 2
    np.testing.assert_array_equal(ahead.replica, by_call.replica)
    np.testing.assert_array_equal(ahead.finish_s, by_call.finish_s)


@given(alive=st.lists(st.integers(0, 9), min_size=1, max_size=6, unique=True),
       before=st.integers(0, 7), count=st.integers(0, 30))
def test_a_rotation_ahead_is_its_turns_one_by_one(alive: list[int], before: int,
                                                   count: int) -> None:
    ahead, one_by_one = Rotation(tuple(sorted(alive))), Rotation(tuple(sorted(alive)))
    for rotation in (ahead, one_by_one):
        for _ in range(before):
            rotation.next()
    assert ahead.ahead(count) == [one_by_one.next() for _ in range(count)]
    assert ahead.next() == one_by_one.next()


def test_uniforms_ahead_are_the_doubles_of_random_calls() -> None:
    block, plain = BlockUniforms(np.random.default_rng(5)), np.random.default_rng(5)
    taken = [block.random() for _ in range(7)]
    assert taken == [plain.random() for _ in range(7)]
    assert block.ahead(100).tolist() == plain.random(100).tolist()
    block.release()
    assert block.random() == plain.random()


def test_an_unhealthy_fleet_is_routed_call_by_call() -> None:
    eng = engine("random", n=50, seed=1)
    eng.replicas[1].alive = False
    eng._fleet_changed()
    router = eng._route
    assert math.isinf(eng.sim.peek_s())
    eng.run()
    assert eng._route is router  # uniform_routes offers nothing with a dead replica

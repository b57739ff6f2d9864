"""Random, round-robin, smooth weighted round-robin, least-outstanding, and the registry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_fakes import fleet, request

from mlfleet.errors import InputError
from mlfleet.serving.lb.base import NoAliveReplicaError
from mlfleet.serving.lb.least_outstanding import LeastOutstandingBalancer
from mlfleet.serving.lb.random import RandomBalancer
from mlfleet.serving.lb.registry import LOAD_BALANCERS, make_load_balancer
from mlfleet.serving.lb.round_robin import RoundRobinBalancer
from mlfleet.serving.lb.weighted import WeightedRoundRobinBalancer
from mlfleet.serving.policy import LoadBalancer, ReplicaView


def picks(lb: LoadBalancer, replicas: Sequence[ReplicaView], n: int,
          seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    return [lb.choose(request(i), replicas, rng) for i in range(n)]


def test_round_robin_is_exactly_even_and_in_order() -> None:
    replicas = fleet(5)
    out = picks(RoundRobinBalancer(), replicas, 5 * 7)
    assert out[:6] == [0, 1, 2, 3, 4, 0]
    assert Counter(out) == dict.fromkeys(range(5), 7)


def test_round_robin_skips_dead_replicas_and_stays_even() -> None:
    replicas = fleet(5)
    replicas[1].alive = replicas[3].alive = False
    assert Counter(picks(RoundRobinBalancer(), replicas, 3 * 10)) == {0: 10, 2: 10, 4: 10}


def test_round_robin_keeps_one_rotation_per_candidate_set() -> None:
    """Two traffic groups through one balancer do not shift each other's rotation."""
    lb, rng = RoundRobinBalancer(), np.random.default_rng(0)
    group_a, group_b = fleet(4), fleet(4)
    for r in group_a[2:]:
        r.alive = False
    for r in group_b[:2]:
        r.alive = False
    out_a = []
    for i in range(6):
        out_a.append(lb.choose(request(i), group_a, rng))
        lb.choose(request(i), group_b, rng)  # interleaved traffic of the other group
    assert out_a == [0, 1, 0, 1, 0, 1]


def test_weighted_matches_weights_exactly_over_every_cycle() -> None:
    weights = {0: 5, 1: 1, 2: 3, 3: 1}
    replicas = fleet(4)
    lb = WeightedRoundRobinBalancer(weights=weights)
    out = picks(lb, replicas, 10 * 4)
    for cycle in range(4):
        assert Counter(out[10 * cycle:10 * cycle + 10]) == weights


def test_weighted_is_smooth_nginx_sequence() -> None:
    """nginx's example: weights a=5, b=1, c=1 give a a b a c a a (interleaved)."""
    replicas = fleet(3)
    out = picks(WeightedRoundRobinBalancer(weights={0: 5, 1: 1, 2: 1}), replicas, 7)
    assert out == [0, 0, 1, 0, 2, 0, 0]


def test_weighted_reads_replica_weights_by_default() -> None:
    replicas = fleet(3)
    for r, w in zip(replicas, (2.0, 1.0, 1.0), strict=True):
        r.weight = w
    assert Counter(picks(WeightedRoundRobinBalancer(), replicas, 40)) == {0: 20, 1: 10, 2: 10}


@settings(max_examples=200, deadline=None)
@given(loads=st.lists(st.integers(0, 20), min_size=1, max_size=12),
       dead=st.sets(st.integers(0, 11)), seed=st.integers(0, 2**32 - 1))
def test_least_outstanding_picks_a_minimum_alive(loads: list[int], dead: set[int],
                                                 seed: int) -> None:
    replicas = fleet(len(loads))
    for r, load in zip(replicas, loads, strict=True):
        r.outstanding = load
        r.alive = r.index not in dead
    alive = [r for r in replicas if r.alive]
    if not alive:
        with pytest.raises(NoAliveReplicaError):
            picks(LeastOutstandingBalancer(), replicas, 1)
        return
    pick = LeastOutstandingBalancer().choose(request(), replicas, np.random.default_rng(seed))
    assert replicas[pick].alive
    assert replicas[pick].outstanding == min(r.outstanding for r in alive)


def test_least_outstanding_breaks_ties_at_random() -> None:
    """An idle fleet is spread, not herded onto replica 0."""
    assert len(set(picks(LeastOutstandingBalancer(), fleet(4), 40))) == 4


def test_random_is_uniform_over_alive_and_deterministic() -> None:
    replicas = fleet(4)
    replicas[2].alive = False
    out = picks(RandomBalancer(), replicas, 30_000, seed=7)
    assert out == picks(RandomBalancer(), replicas, 30_000, seed=7)
    counts = Counter(out)
    assert set(counts) == {0, 1, 3}
    assert all(abs(c / 30_000 - 1 / 3) < 0.01 for c in counts.values())  # ~5σ


@pytest.mark.parametrize("name", sorted(LOAD_BALANCERS))
def test_every_registered_balancer_picks_an_alive_replica(name: str) -> None:
    replicas = fleet(6, sessions={1})
    replicas[0].alive = replicas[4].alive = False
    out = picks(make_load_balancer(name), replicas, 200)
    assert set(out) <= {1, 2, 3, 5}


def test_registry_rejects_unknown_names_listing_the_known() -> None:
    with pytest.raises(InputError, match=r"'fastest' is unknown; known: consistent_hash, .*"):
        make_load_balancer("fastest")


@pytest.mark.parametrize(("name", "params", "fragment"), [
    ("power_of_two", {"d": 0}, "d(=0) must be an integer >= 1"),
    ("consistent_hash", {"epsilon": 0}, "epsilon(=0) must be a finite number > 0"),
    ("consistent_hash", {"epsilon": -0.5}, "epsilon(=-0.5)"),
    ("consistent_hash", {"hash_by": "ip"}, "hash_by(='ip') is unknown; known: session, key, user"),
    ("weighted", {"weights": {0: -1.0}}, "weights[0](=-1) must be a finite number > 0"),
    ("kv_aware", {"max_imbalance": -1}, "max_imbalance(=-1) must be an integer >= 0"),
    ("random", {"d": 2}, "bad parameters ['d']"),
])
def test_bad_configuration_is_a_one_line_input_error(name: str, params: dict[str, Any],
                                                     fragment: str) -> None:
    with pytest.raises(InputError) as info:
        make_load_balancer(name, **params)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)

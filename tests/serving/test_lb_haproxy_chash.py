"""HAProxy's consistent-hash ring: its hash functions, nearest-point lookup, weights, the
keyless walk and ``random(d)`` on the ring. That it routes every key where a real
HAProxy does is tests/serving/fleet/test_fleet_haproxy_ring.py."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_fakes import fleet, request

from mlfleet.errors import InputError
from mlfleet.serving.lb.haproxy_chash import (
    POINTS_PER_WEIGHT,
    HaproxyChashBalancer,
    HaproxyRing,
    HaproxyRingRandomBalancer,
    HaproxyServer,
    full_hash,
    key_hash,
    sdbm,
)
from mlfleet.serving.lb.registry import make_load_balancer

SERVERS = tuple(HaproxyServer(id=i + 1) for i in range(3))


def test_sdbm_is_its_recurrence() -> None:
    assert sdbm(b"") == 0
    assert sdbm(b"a") == 97
    assert sdbm(b"ab") == 98 + 97 * 65599  # h·(2⁶ + 2¹⁶ − 1) + c
    assert sdbm(b"\xff" * 64) < 2**32


def test_full_hash_is_a_bijection_on_a_block_of_inputs() -> None:
    """Every step is invertible mod 2³² (odd multiplier, xor-shifts, add-shifts), so no
    two of 2¹⁶ consecutive inputs collide; a uniform random draw stays uniform."""
    outs = {full_hash(a) for a in range(2**16)}
    assert len(outs) == 2**16
    assert all(0 <= h < 2**32 for h in outs)


def test_each_server_owns_sixteen_points_per_unit_of_weight() -> None:
    ring = HaproxyRing([0, 1, 2], (HaproxyServer(id=1), HaproxyServer(id=2, weight=3),
                                   HaproxyServer(id=7)))
    counts = Counter(ring.owners.tolist())
    assert counts == {0: POINTS_PER_WEIGHT, 1: 3 * POINTS_PER_WEIGHT, 2: POINTS_PER_WEIGHT}
    assert np.all(np.diff(ring.positions.astype(np.int64)) >= 0)


@settings(max_examples=200, deadline=None)
@given(h=st.integers(0, 2**32 - 1))
def test_a_hash_goes_to_the_nearest_point_either_side(h: int) -> None:
    ring = HaproxyRing([0, 1, 2], SERVERS)
    pos = ring.positions.astype(np.int64)
    after = np.mod(pos - h, 2**32)   # distance forward to each point
    before = np.mod(h - pos, 2**32)  # distance back
    best = min(after.min(), before.min())
    # HAProxy prefers the point before on a tie; either way the owner is at that distance
    owners = set(ring.owners[(after == best) | (before == best)].tolist())
    assert int(ring.nearest(h)) in owners


def test_removing_a_server_moves_only_its_keys() -> None:
    hashes = [key_hash(u) for u in range(5000)]
    before = HaproxyRing([0, 1, 2], SERVERS).nearest(hashes)
    after = HaproxyRing([0, 2], SERVERS).nearest(hashes)
    assert np.array_equal(before != after, before == 1)


def test_sessions_stick_and_a_dead_replica_is_routed_around() -> None:
    lb, rng, replicas = HaproxyChashBalancer(), np.random.default_rng(0), fleet(3)
    home = {u: lb.choose(request(u, user=u), replicas, rng) for u in range(300)}
    assert set(home.values()) == {0, 1, 2}
    assert all(lb.choose(request(1000 + u, user=u), replicas, rng) == home[u]
               for u in range(300))
    replicas[1].alive = False
    moved = {u: lb.choose(request(u, user=u), replicas, rng) for u in range(300)}
    assert all(moved[u] == home[u] for u in range(300) if home[u] != 1)
    assert {moved[u] for u in range(300) if home[u] == 1} <= {0, 2}


def test_a_keyless_request_walks_the_ring_in_order() -> None:
    lb, rng, replicas = HaproxyChashBalancer(hash_by="session"), np.random.default_rng(0), fleet(3)
    ring = HaproxyRing([0, 1, 2], SERVERS)
    walk = [lb.choose(request(i), replicas, rng) for i in range(2 * ring.owners.size)]
    assert walk == 2 * ring.owners.tolist()


def test_random_draws_land_with_the_probability_of_each_arc() -> None:
    """Idle replicas (a tie on every request): the later draw is kept, so each replica is
    chosen with its arc share of HAProxy's ring. Observed over 60k draws: within 0.004 of
    the arc shares (0.350 / 0.295 / 0.354, from 1M uniform hashes), not 1/3 each."""
    arcs = np.bincount(HaproxyRing([0, 1, 2], SERVERS).nearest(
        np.random.default_rng(1).integers(0, 2**32, 1_000_000)), minlength=3) / 1e6
    lb, rng, replicas = HaproxyRingRandomBalancer(), np.random.default_rng(2), fleet(3)
    picks = np.bincount([lb.choose(request(i), replicas, rng) for i in range(60_000)],
                        minlength=3) / 60_000
    assert np.abs(picks - arcs).max() < 0.01  # binomial sd ~0.002
    assert abs(arcs[1] - 1 / 3) > 0.02  # HAProxy's ring is uneven: why uniform draws miss


def test_random_keeps_the_less_busy_of_two_draws() -> None:
    lb, rng = HaproxyRingRandomBalancer(draws=2), np.random.default_rng(3)
    replicas = fleet(3)
    replicas[0].outstanding = 5
    picks = Counter(lb.choose(request(i), replicas, rng) for i in range(20_000))
    share0 = np.bincount(HaproxyRing([0, 1, 2], SERVERS).nearest(
        np.random.default_rng(1).integers(0, 2**32, 200_000)), minlength=3)[0] / 200_000
    # replica 0 only when both draws land on it
    assert abs(picks[0] / 20_000 - share0**2) < 0.015


def test_registered_under_their_names_and_bad_parameters_are_one_line() -> None:
    assert isinstance(make_load_balancer("haproxy_chash"), HaproxyChashBalancer)
    assert isinstance(make_load_balancer("haproxy_random", draws=3), HaproxyRingRandomBalancer)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("haproxy_chash", {"hash_by": "ip"}, "hash_by(='ip') is unknown"),
        ("haproxy_random", {"draws": 0}, "draws(=0) must be an integer >= 1"),
        ("haproxy_chash", {"server_ids": [1, 2], "weights": [1]}, "weights(=[1])"),
    ]
    for name, params, fragment in cases:
        with pytest.raises(InputError) as info:
            make_load_balancer(name, **params).choose(request(0), fleet(2),
                                                      np.random.default_rng(0))
        assert fragment in str(info.value) and "\n" not in str(info.value)

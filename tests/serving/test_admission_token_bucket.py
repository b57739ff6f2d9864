"""Token bucket: never admits more than rate·T + burst in any window of length T."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_fakes import request, system

from mlfleet.errors import InputError
from mlfleet.serving.admission.token_bucket import TokenBucket, TokenBucketAdmission


def max_window_excess(times: np.ndarray, rate: float, burst: float,
                      costs: np.ndarray | None = None) -> float:
    """max over admitted i <= j of cost(i..j) − (rate·(t_j − t_i) + burst)."""
    if times.size == 0:
        return -burst
    c = np.ones(times.size) if costs is None else costs
    cum = np.concatenate([[0.0], np.cumsum(c)])
    i, j = np.triu_indices(times.size)
    return float(np.max(cum[j + 1] - cum[i] - rate * (times[j] - times[i]) - burst))


arrivals = st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=150).map(sorted)


@settings(max_examples=150, deadline=None)
@given(times=arrivals, rate=st.floats(0.05, 20), burst=st.integers(1, 10))
def test_bucket_never_exceeds_its_arrival_curve(times: list[float], rate: float,
                                                burst: int) -> None:
    bucket = TokenBucket(rate_per_s=rate, burst=burst)
    admitted = np.array([t for t in times if bucket.try_take(t)])
    assert max_window_excess(admitted, rate, burst) <= 1e-9


@settings(max_examples=100, deadline=None)
@given(times=arrivals, users=st.lists(st.integers(0, 3), min_size=150, max_size=150),
       rate=st.floats(0.5, 10), user_rate=st.floats(0.1, 5), burst=st.integers(1, 5))
def test_admission_bounds_every_user_and_the_total(times: list[float], users: list[int],
                                                   rate: float, user_rate: float,
                                                   burst: int) -> None:
    policy = TokenBucketAdmission(rate_per_s=rate, burst=burst, per_user_rate_per_s=user_rate,
                                  per_user_burst=burst)
    ok = [policy.admit(request(i, user=u), system(now_s=t))
          for i, (t, u) in enumerate(zip(times, users, strict=False))]
    t, u = np.array(times), np.array(users[:len(times)])
    assert max_window_excess(t[ok], rate, burst) <= 1e-9
    for user in range(4):
        assert max_window_excess(t[ok & (u == user)], user_rate, burst) <= 1e-9


def test_under_overload_it_admits_the_rate_and_the_burst_no_less() -> None:
    """Poisson arrivals at 3× the rate for 1000 s: admitted = rate·T + burst to within 1."""
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.exponential(1 / 30.0, 40_000))
    times = times[times <= 1000.0]
    bucket = TokenBucket(rate_per_s=10.0, burst=20)
    admitted = sum(bucket.try_take(float(t)) for t in times)
    assert 10.0 * 1000.0 + 20 - 1 <= admitted <= 10.0 * 1000.0 + 20


def test_conforming_traffic_is_never_rejected() -> None:
    bucket = TokenBucket(rate_per_s=5.0, burst=1)
    assert all(bucket.try_take(k * 0.2) for k in range(1000))


def test_a_flooding_user_does_not_starve_another_or_the_global_budget() -> None:
    policy = TokenBucketAdmission(rate_per_s=100.0, burst=100, per_user_rate_per_s=1.0,
                                  per_user_burst=1)
    flood = [policy.admit(request(i, user=1), system(now_s=i * 0.001)) for i in range(1000)]
    polite = [policy.admit(request(i, user=2), system(now_s=1.0 + i)) for i in range(10)]
    assert sum(flood) == 1  # the one burst token; a whole new one only at t = 1 s
    assert all(polite)


def test_token_cost_counts_prompt_and_output_tokens() -> None:
    policy = TokenBucketAdmission(rate_per_s=100.0, burst=300, cost="tokens")
    big = request(prompt_tokens=150, output_tokens=100)
    assert policy.admit(big, system())
    assert not policy.admit(big, system())  # 50 tokens left
    assert policy.admit(big, system(now_s=2.0))  # +200 refilled


@pytest.mark.parametrize(("params", "fragment"), [
    ({"rate_per_s": -1.0}, "rate_per_s(=-1) must be a finite number > 0"),
    ({"rate_per_s": 1.0, "burst": 0}, "burst(=0) must be a finite number > 0"),
    ({"per_user_rate_per_s": float("nan")}, "rate_per_s(=nan)"),
    ({}, "needs rate_per_s and/or per_user_rate_per_s"),
    ({"rate_per_s": 1.0, "cost": "bytes"}, "cost(='bytes') is unknown; known: requests, tokens"),
])
def test_bad_configuration(params: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        TokenBucketAdmission(**params)
    assert fragment in str(info.value)

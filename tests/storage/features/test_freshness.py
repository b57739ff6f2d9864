"""Freshness and the stale-feature policy, value by value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.storage.features.freshness import ServedFeature, age_s, is_stale, serve


def served(policy: str, *, event_s: float | None = 100.0, found: bool = True,
           ttl_s: float | None = 60.0, default: float | None = -1.0) -> ServedFeature:
    return serve(value=0.5, event_ts_s=event_s, found=found, now_s=200.0, ttl_s=ttl_s,
                 policy=policy, default=default)


def test_age_and_the_ttl_boundary() -> None:
    assert age_s(now_s=200.0, event_ts_s=150.0) == 50.0
    assert not is_stale(age_s=60.0, ttl_s=60.0)          # exactly the TTL: still valid
    assert is_stale(age_s=60.000001, ttl_s=60.0)
    assert not is_stale(age_s=1e12, ttl_s=None)          # no TTL: never stale


@pytest.mark.parametrize("policy", ["flag", "default"])
def test_fresh_values_are_served_as_stored(policy: str) -> None:
    got = served(policy, event_s=150.0)
    assert (got.value, got.age_s, got.status, got.defaulted) == (0.5, 50.0, "fresh", False)


def test_flag_serves_a_stale_value_marked_stale() -> None:
    got = served("flag")
    assert (got.value, got.age_s, got.status, got.defaulted) == (0.5, 100.0, "stale", False)


def test_default_replaces_a_stale_value_and_says_so() -> None:
    got = served("default")
    assert (got.value, got.event_ts_s, got.status, got.defaulted) == (-1.0, 100.0, "stale", True)
    assert served("default", default=None).value is None


@pytest.mark.parametrize("policy", ["flag", "default"])
def test_missing_values_get_the_default_under_both_policies(policy: str) -> None:
    got = served(policy, found=False)
    assert (got.value, got.age_s, got.status, got.defaulted) == (-1.0, None, "missing", True)
    assert served(policy, found=False, default=None).defaulted is False


@given(event=st.floats(0, 1e9), now=st.floats(0, 1e9), ttl=st.none() | st.floats(0, 1e9),
       policy=st.sampled_from(["flag", "default"]))
def test_a_stale_value_is_never_served_unmarked(event: float, now: float, ttl: float | None,
                                                policy: str) -> None:
    got = serve(value=1, event_ts_s=event, found=True, now_s=now, ttl_s=ttl, policy=policy,
                default=0)
    assert got.status == ("stale" if ttl is not None and now - event > ttl else "fresh")
    assert got.value == (0 if got.status == "stale" and policy == "default" else 1)

"""Freshness of served features and the stale-feature policy.

A value's age is ``now − event_ts``; it is *stale* when its age exceeds the view's TTL
(a view without TTL never goes stale), the same bound the point-in-time join uses
offline (a value is valid while ``event_ts >= t − ttl``). What is served then depends on
the repository's ``online.stale_policy``:

* ``flag`` — the stale value is served, with ``status="stale"``;
* ``default`` — the configured default (``online.defaults["view:feature"]``, None when
  there is none) replaces it, with ``defaulted=True``.

An entity the store holds nothing for is ``missing`` and gets the default under either
policy (None when none is configured).
"""

from __future__ import annotations

from typing import NamedTuple

from mlfleet.storage.features.online_store import FeatureValue

STATUSES = ("fresh", "stale", "missing")
"""What :attr:`ServedFeature.status` can be."""


class ServedFeature(NamedTuple):
    """One feature value of one entity as the online lookup serves it.

    A named tuple, not a dataclass: a lookup builds one per entity and feature, and a
    tuple is built three times faster (the 2 ms online-lookup budget).
    """

    value: FeatureValue
    """The value served (the default when ``defaulted``)."""
    event_ts_s: float | None
    """Event time of the stored value (seconds since the Unix epoch); None when missing."""
    age_s: float | None
    """``now − event_ts_s`` in seconds; None when missing."""
    status: str
    """``fresh``, ``stale`` or ``missing`` (of the stored value, before any default)."""
    defaulted: bool
    """True when the configured default was served instead of the stored value."""


def age_s(*, now_s: float, event_ts_s: float) -> float:
    """Seconds since the value's event time (negative when it lies after ``now``)."""
    return now_s - event_ts_s


def is_stale(*, age_s: float, ttl_s: float | None) -> bool:
    """True when ``age_s`` exceeds ``ttl_s`` (never without a TTL)."""
    return ttl_s is not None and age_s > ttl_s


def serve(*, value: FeatureValue, event_ts_s: float | None, found: bool, now_s: float,
          ttl_s: float | None, policy: str, default: FeatureValue) -> ServedFeature:
    """Apply freshness and the stale ``policy`` (``flag`` or ``default``) to one value.

    ``found`` is False when the store holds nothing for the entity (then ``value`` and
    ``event_ts_s`` are ignored).
    """
    assert policy in ("flag", "default"), policy
    if not found or event_ts_s is None:
        return ServedFeature(value=default, event_ts_s=None, age_s=None, status="missing",
                             defaulted=default is not None)
    age = age_s(now_s=now_s, event_ts_s=event_ts_s)
    if not is_stale(age_s=age, ttl_s=ttl_s):
        return ServedFeature(value=value, event_ts_s=event_ts_s, age_s=age, status="fresh",
                             defaulted=False)
    if policy == "default":
        return ServedFeature(value=default, event_ts_s=event_ts_s, age_s=age, status="stale",
                             defaulted=True)
    return ServedFeature(value=value, event_ts_s=event_ts_s, age_s=age, status="stale",
                         defaulted=False)

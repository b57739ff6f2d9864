"""Locality-aware placement: hold out for few nodes, up to a wait limit."""

from __future__ import annotations

import pytest
from policy_views import cluster, spec, view

from mlfleet.infra.scheduling.policies.locality import LocalityPolicy, make
from mlfleet.infra.scheduling.policies.options import PolicyOptionError
from mlfleet.infra.scheduling.types import JobView


def fragmented(age_s: float) -> list[JobView]:
    """Two 2-GPU jobs hold half of each 4-GPU node; a 4-GPU job waits ``age_s``."""
    return [view(spec("Y", 2), placement=(0, 0)), view(spec("Z", 2), placement=(1, 1)),
            view(spec("X", 4, submit_s=0.0), now_s=age_s, spread_slowdown=1.5)]


def test_waits_rather_than_run_spread_and_slow() -> None:
    assert "X" not in LocalityPolicy().schedule(60.0, fragmented(60.0), cluster(2, 4))


def test_takes_the_spread_placement_after_max_wait() -> None:
    chosen = LocalityPolicy(max_wait_s=1800.0).schedule(1800.0, fragmented(1800.0),
                                                        cluster(2, 4))
    assert chosen["X"] == (0, 0, 1, 1)


def test_a_tolerant_slowdown_starts_it_at_once() -> None:
    chosen = LocalityPolicy(max_slowdown=1.5).schedule(60.0, fragmented(60.0), cluster(2, 4))
    assert chosen["X"] == (0, 0, 1, 1)


def test_quiet_until_the_next_deadline() -> None:
    assert LocalityPolicy(max_wait_s=1800.0).quiet_until_s(60.0, fragmented(60.0),
                                                           cluster(2, 4)) == 1800.0


def test_bad_option() -> None:
    with pytest.raises(PolicyOptionError, match=r"max_slowdown\(=0.5\) must be a number >= 1"):
        make(max_slowdown=0.5)

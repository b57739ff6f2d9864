"""The --fault grammar: episodes, replicas, times, order, undo without its fault."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.reliability.chaos.faults import (
    FaultError,
    FaultStep,
    episodes,
    parse_episode,
    schedule,
)


def test_episode_defaults_to_replica_zero_and_parses_units() -> None:
    assert parse_episode("kill@5s,restart@1.2e1s", replicas=3, duration_s=30) == [
        FaultStep(replica=0, action="kill", at_s=5.0),
        FaultStep(replica=0, action="restart", at_s=12.0)]


def test_replica_prefix_and_minutes() -> None:
    steps = parse_episode("2:stop@0.1min,cont@9s", replicas=3, duration_s=30)
    assert [(s.replica, s.action, s.at_s) for s in steps] == [(2, "stop", 6.0), (2, "cont", 9.0)]


@pytest.mark.parametrize(("text", "fragment"), [
    ("explode@5s", "(='explode') is unknown; known: kill"),
    ("kill@40s", "beyond the run"),
    ("kill@30s", "beyond the run"),
    ("3:kill@1s", "allowed: 0..2"),
    ("x:kill@1s", "allowed: 0..2"),
    ("kill", "must be ACTION@TIME"),
    ("kill@5s,restart@2s", "times in order"),
    ("cont@5s", "cont needs an earlier stop"),
    ("kill@1s,restart@2s,restart@3s", "restart needs an earlier kill or drain"),
    ("kill@-1s", "must be a duration >= 0"),
    ("kill@fast", "--fault kill"),
])
def test_bad_episodes_name_the_value(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_episode(text, replicas=3, duration_s=30)
    assert fragment in str(info.value)


def test_schedule_sorts_across_episodes() -> None:
    steps = schedule(["1:stop@20s,cont@25s", "kill@5s,restart@12s"], replicas=3, duration_s=30)
    assert [s.at_s for s in steps] == [5, 12, 20, 25]
    eps = episodes(["1:stop@20s,cont@25s", "kill@5s,restart@12s"], replicas=3, duration_s=30)
    assert [ep[0].action for ep in eps] == ["kill", "stop"]


@given(st.lists(st.floats(0, 29.9, allow_nan=False), min_size=1, max_size=6))
def test_kill_restart_pairs_in_order_always_parse(times: list[float]) -> None:
    times = sorted(times)
    actions = ["kill", "restart"] * len(times)
    text = ",".join(f"{a}@{t!r}s" for a, t in zip(actions, times, strict=False))
    steps = parse_episode(text, replicas=1, duration_s=30)
    assert [s.at_s for s in steps] == pytest.approx(times, rel=1e-12)
    assert all(isinstance(s, FaultStep) for s in steps)
    assert issubclass(FaultError, InputError)

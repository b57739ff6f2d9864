"""Retention keeps the last K plus every M-th step: properties over random histories."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mlfleet.storage.checkpoint.retention import steps_to_keep

_steps = st.lists(st.integers(0, 10_000), max_size=60)


@given(_steps, st.integers(1, 10), st.integers(0, 500))
def test_retention_properties(steps: list[int], keep_last: int, keep_every: int) -> None:
    kept = steps_to_keep(steps, keep_last=keep_last, keep_every=keep_every)
    ordered = sorted(set(steps))
    assert kept <= set(ordered)
    assert set(ordered[-keep_last:]) <= kept  # the newest K are kept
    if keep_every:
        assert {s for s in ordered if s % keep_every == 0} <= kept
    # nothing else is kept
    assert len(kept) <= keep_last + (sum(s % keep_every == 0 for s in ordered) if keep_every else 0)


@given(_steps, st.integers(1, 10), st.integers(0, 500), st.integers(0, 10_000))
def test_a_long_term_step_stays_kept_as_history_grows(steps: list[int], keep_last: int,
                                                      keep_every: int, later: int) -> None:
    before = steps_to_keep(steps, keep_last=keep_last, keep_every=keep_every)
    after = steps_to_keep([*before, later], keep_last=keep_last, keep_every=keep_every)
    if keep_every:
        assert {s for s in before if s % keep_every == 0} <= after


def test_keep_all_and_example() -> None:
    assert steps_to_keep([3, 1, 2], keep_last=None, keep_every=0) == {1, 2, 3}
    assert steps_to_keep(range(20, 260, 20), keep_last=2, keep_every=100) == {100, 200, 220, 240}

"""Leave-one-out validation over the published points (issue 17, item 5): the goals hold for
every asserted point, each listed miss really misses, a prediction never sees its own point,
and docs/accelerators.md holds the current table and count."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.infra.accel.loo import leave_one_out, predict_held_out
from mlfleet.infra.accel.loo_table import markdown
from mlfleet.infra.accel.published import load_points
from mlfleet.infra.accel.validations import GOAL_MISSES, provide
from mlfleet.validate.registry import Check, Context

DOCS = Path(__file__).resolve().parents[3] / "docs" / "accelerators.md"
REGENERATE = "regenerate it with: python -m mlfleet.infra.accel.loo_table"


@pytest.fixture(scope="module")
def checks() -> list[Check]:
    return provide(Context())


def test_every_asserted_point_meets_its_goal(checks: list[Check]) -> None:
    failed = [(c.id, f"{c.error:+.1%}", c.bound) for c in checks
              if c.held == "asserted" and not c.passed]
    assert not failed


def test_each_listed_miss_is_a_real_miss(checks: list[Check]) -> None:
    """A point that starts meeting its goal must move from GOAL_MISSES to asserted."""
    by_id = {c.id.removeprefix("infra.accel.loo."): c for c in checks}
    assert set(GOAL_MISSES) <= set(by_id)
    for ident in GOAL_MISSES:
        check = by_id[ident]
        assert check.held == "goal" and not check.passed and check.note, ident


def test_checks_are_published_references_with_unique_ids(checks: list[Check]) -> None:
    assert len({c.id for c in checks}) == len(checks)
    assert all(c.reference_kind == "published" and c.chapter == "infra" for c in checks)
    kinds = {p.kind for p in load_points()}
    assert len(checks) == sum(p.kind in ("gemm", "stream", "decode_step", "prefill_step")
                              for p in load_points())
    assert {"gemm", "stream", "decode_step"} <= kinds


def test_docs_count_matches_the_asserted_points(checks: list[Check]) -> None:
    found = re.search(r"\*\*(\d+) of (\d+) points are asserted\*\*", DOCS.read_text())
    assert found is not None, "docs/accelerators.md lacks the leave-one-out summary"
    asserted = sum(c.held == "asserted" for c in checks)
    assert (int(found.group(1)), int(found.group(2))) == (asserted, len(checks)), REGENERATE


def test_docs_hold_the_current_table() -> None:
    assert markdown(leave_one_out(load_points())) in DOCS.read_text(), REGENERATE


_POINTS = load_points()
_HELD = [p for p in _POINTS if p.kind in ("gemm", "stream", "decode_step")]


@settings(max_examples=15, deadline=None)
@given(index=st.integers(0, len(_HELD) - 1), factor=st.floats(0.2, 5.0))
def test_a_prediction_never_sees_its_own_point(index: int, factor: float) -> None:
    """Scaling the held-out point's measured time leaves its prediction unchanged."""
    held = _HELD[index]
    moved = replace(held, measured_s=held.measured_s * factor)
    others = [moved if p.id == held.id else p for p in _POINTS]
    assert predict_held_out(moved, others).predicted_s == \
        predict_held_out(held, _POINTS).predicted_s

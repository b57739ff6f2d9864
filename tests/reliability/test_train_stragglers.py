"""Straggler detectors on per-rank compute times (synthetic, seeded)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.reliability.train.stragglers import StragglerConfig, detect_stragglers


def _times(*, ranks: int = 4, steps: int = 60, slow: dict[int, float] | None = None,
           seed: int = 0, noise: float = 0.1) -> dict[int, list[tuple[int, float]]]:
    rng = np.random.default_rng(seed)
    out = {}
    for r in range(ranks):
        base = 0.002 * (slow or {}).get(r, 1.0)
        out[r] = [(s + 1, base * (1 + noise * rng.standard_normal())) for s in range(steps)]
    return out


def test_a_rank_three_times_slower_is_flagged_by_relative_and_variance() -> None:
    findings = detect_stragglers(_times(slow={3: 3.0}))
    by_method = {f.method: f for f in findings}
    assert {f.rank for f in findings} == {3}
    assert by_method["relative"].step == 10  # the first full window
    assert by_method["relative"].ratio > 2.5
    assert "variance" in by_method


def test_a_rank_that_stalls_is_flagged_by_timeout() -> None:
    findings = detect_stragglers(_times(slow={1: 10.0}))
    assert any(f.method == "timeout" and f.rank == 1 for f in findings)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), ranks=st.integers(2, 8))
def test_equal_ranks_with_noise_are_never_flagged(seed: int, ranks: int) -> None:
    assert detect_stragglers(_times(ranks=ranks, seed=seed, noise=0.2)) == []


def test_too_few_steps_or_ranks_give_no_finding() -> None:
    assert detect_stragglers(_times(steps=5, slow={0: 5.0})) == []
    assert detect_stragglers(_times(ranks=1, slow={0: 5.0})) == []
    assert detect_stragglers(_times(steps=12, slow={0: 5.0}), StragglerConfig(window=20)) == []

"""The arcsin AUC formula against Monte Carlo, and the Mann-Whitney AUC against its definition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.reliability.degradation.gaussian_auc import auc_of_correlation, empirical_auc


@pytest.mark.parametrize("r", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_arcsin_auc_matches_monte_carlo(r: float) -> None:
    """200 000 samples: |AUC_mc − formula| < 0.004 (observed max 0.0003)."""
    rng = np.random.default_rng(7)
    u, e = rng.standard_normal((2, 200_000))
    score = r * u + np.sqrt(1 - r * r) * e
    assert abs(empirical_auc(score, u > 0) - float(auc_of_correlation(r))) < 0.004


def test_auc_ends() -> None:
    assert float(auc_of_correlation(0.0)) == pytest.approx(0.5)
    assert float(auc_of_correlation(1.0)) == pytest.approx(1.0)
    with pytest.raises(InputError, match="1.5"):
        auc_of_correlation(1.5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=30), st.integers(0, 2**30))
def test_empirical_auc_is_the_pairwise_share(scores: list[float], seed: int) -> None:
    labels = np.random.default_rng(seed).random(len(scores)) < 0.5
    s = np.asarray(scores)
    pos, neg = s[labels], s[~labels]
    if not len(pos) or not len(neg):
        return
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert empirical_auc(s, labels) == pytest.approx(pairs)

"""NaN strategies and the IQR outlier rule (factor 3)."""

from __future__ import annotations

import numpy as np

from mlfleet.ops.canary.preprocess import handle_nans, preprocess, remove_outliers


def test_nan_strategies() -> None:
    v = np.array([1.0, np.nan, 3.0])
    assert handle_nans(v, "remove").tolist() == [1.0, 3.0]
    assert handle_nans(v, "replace").tolist() == [1.0, 0.0, 3.0]


def test_iqr_rule_removes_beyond_three_iqrs_only() -> None:
    """1..9 and 100: Q1 = 3.25, Q3 = 7.75 (R type 7), fences -10.25 and 21.25."""
    v = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 100])
    assert remove_outliers(v).tolist() == list(range(1, 10))
    v[-1] = 21.25
    assert remove_outliers(v).size == 10


def test_zero_iqr_keeps_sparse_counts() -> None:
    counts = np.array([0.0] * 18 + [1.0, 3.0])
    assert remove_outliers(counts).tolist() == counts.tolist()


def test_preprocess_chains_both() -> None:
    v = np.array([1.0, 2, 3, 4, 5, np.nan, 1e6])
    assert preprocess(v).tolist() == [1.0, 2, 3, 4, 5]
    assert preprocess(v, outliers=False).size == 6

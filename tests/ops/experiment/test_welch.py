"""Welch's t-test against scipy (an exact reference) and its type-I error by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.welch import ArmSummary, summarize, welch_test


@settings(max_examples=60, deadline=None)
@given(n_c=st.integers(2, 400), n_t=st.integers(2, 400), scale=st.floats(0.01, 100),
       shift=st.floats(-3, 3), seed=st.integers(0, 2 ** 32 - 1))
def test_matches_scipy_ttest_ind_unequal_var(n_c: int, n_t: int, scale: float, shift: float,
                                             seed: int) -> None:
    rng = np.random.default_rng(seed)
    control, treatment = rng.normal(0, 1, n_c), rng.normal(shift, scale, n_t)
    ours = welch_test(summarize(control), summarize(treatment), alpha=0.1)
    ref = stats.ttest_ind(treatment, control, equal_var=False)
    low, high = ref.confidence_interval(confidence_level=0.9)
    assert ours.t == pytest.approx(ref.statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
    assert ours.df == pytest.approx(ref.df, rel=1e-9)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high), rel=1e-9, abs=1e-12)


def test_type_one_error_is_alpha_with_unequal_variances_and_sizes() -> None:
    """4000 A/A tests, n = 20 vs 60, σ = 1 vs 3 (where the pooled t-test is off):
    rejection rate 0.04825 here, within 3 SE (0.0034) of α = 0.05."""
    rng = np.random.default_rng(7)
    rejections = np.mean([
        welch_test(summarize(rng.normal(0, 3, 20)), summarize(rng.normal(0, 1, 60))).p_value
        < 0.05 for _ in range(4000)])
    assert abs(rejections - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 4000)


def test_constant_arms_give_nan_test_and_a_zero_width_interval() -> None:
    flat = ArmSummary(n=5, mean=1.0, var=0.0)
    result = welch_test(flat, flat)
    assert np.isnan(result.p_value) and result.ci_low == result.ci_high == 0.0


def test_an_arm_needs_two_units_and_alpha_a_fraction() -> None:
    with pytest.raises(ExperimentInputError, match="arm 'treatment' has 1 users"):
        summarize([1.0], arm="treatment")
    s = summarize([1.0, 2.0])
    with pytest.raises(ExperimentInputError, match="alpha"):
        welch_test(s, s, alpha=1.5)

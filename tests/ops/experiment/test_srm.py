"""SRM: the chi-square goodness of fit, against scipy and on known mismatches."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.srm import SRM_THRESHOLD, srm_test


@pytest.mark.parametrize(("counts", "weights"), [
    ([5000, 5100], [1, 1]), ([1000, 3050, 5950], [10, 30, 60]), ([7, 0], [0.5, 0.5])])
def test_matches_scipy_chisquare(counts: list[int], weights: list[float]) -> None:
    result = srm_test(counts, weights)
    expected = np.array(weights) / sum(weights) * sum(counts)
    reference = stats.chisquare(counts, expected)
    assert result.chi2 == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-12)


def test_flags_a_one_and_a_half_percent_imbalance_at_scale_only() -> None:
    assert not srm_test([5000, 5150], [50, 50]).mismatch  # p = 0.14
    flagged = srm_test([50_000, 51_500], [50, 50])  # p = 2.5e-6
    assert flagged.mismatch and flagged.p_value < SRM_THRESHOLD


@pytest.mark.slow
def test_false_alarm_rate_on_correct_splits_is_the_threshold() -> None:
    """20 000 correct 50/50 splits of 20 000 units: 11 flagged here (rate 0.00055), expected
    10 (0.0005); the count is within 3 Poisson SD (√10) of 10."""
    rng = np.random.default_rng(3)
    counts = rng.multinomial(20_000, [0.5, 0.5], size=20_000)
    flags = sum(srm_test(c.tolist(), [1, 1]).mismatch for c in counts)
    assert abs(flags - 10) <= 3 * np.sqrt(10)


@pytest.mark.parametrize(("counts", "weights", "fragment"), [
    ([10], [1], "same two or more arms"), ([10, 10], [1, 1, 1], "same two or more arms"),
    ([0, 0], [1, 1], "at least one unit"), ([-1, 5], [1, 1], "counts(=-1)"),
    ([5, 5], [0, 1], "weights(=0)")])
def test_bad_input(counts: list[int], weights: list[float], fragment: str) -> None:
    with pytest.raises(ExperimentInputError) as err:
        srm_test(counts, weights)
    assert fragment in str(err.value)

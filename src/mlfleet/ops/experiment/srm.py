"""Sample-ratio mismatch: do the arms' unit counts match the weights they were split by?

Pearson's chi-square goodness-of-fit test of the observed counts against
``total × weight``. A p-value below 0.0005 flags a mismatch, the threshold Fabijan et al.
use in production ("Diagnosing Sample Ratio Mismatch in Online Controlled Experiments",
KDD 2019): an experiment with SRM has a broken assignment or logging, and its metrics
should not be trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from mlfleet.checks import fraction, non_negative_array, positive_array
from mlfleet.ops.experiment.errors import ExperimentInputError

SRM_THRESHOLD = 0.0005
"""p below this flags a sample-ratio mismatch (Fabijan et al., KDD 2019)."""


@dataclass(frozen=True, kw_only=True)
class SrmResult:
    """The chi-square test of arm counts against the split's weights."""

    observed: tuple[int, ...]
    """Units per arm."""
    expected: tuple[float, ...]
    """Units per arm the weights predict (total × weight)."""
    chi2: float
    """Pearson's statistic Σ (observed − expected)² / expected."""
    dof: int
    """Degrees of freedom: arms − 1."""
    p_value: float
    """P(χ²_dof ≥ chi2)."""
    threshold: float
    """The p-value below which a mismatch is flagged."""

    @property
    def mismatch(self) -> bool:
        """True when p < threshold: do not trust this experiment's metrics."""
        return self.p_value < self.threshold


def srm_test(counts: Sequence[int], weights: Sequence[float], *,
             threshold: float = SRM_THRESHOLD) -> SrmResult:
    """Chi-square test of ``counts`` against ``weights`` (any positive scale; normalised).

    Raises :class:`ExperimentInputError` for fewer than two arms, mismatched lengths,
    negative counts, non-positive weights or no units at all.
    """
    observed = non_negative_array("counts", counts, error=ExperimentInputError)
    shares = positive_array("weights", weights, error=ExperimentInputError)
    fraction("threshold", threshold, open_low=True, open_high=True, error=ExperimentInputError)
    if observed.size != shares.size or observed.size < 2:
        raise ExperimentInputError(f"counts(={observed.size} arms) and weights(={shares.size} "
                                   "arms) must name the same two or more arms")
    total = float(observed.sum())
    if total <= 0:
        raise ExperimentInputError("counts(=0 units) must hold at least one unit")
    expected = total * shares / shares.sum()
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    dof = observed.size - 1
    return SrmResult(observed=tuple(int(c) for c in observed),
                     expected=tuple(float(e) for e in expected), chi2=chi2, dof=dof,
                     p_value=float(stats.chi2.sf(chi2, dof)), threshold=threshold)
